"""The data of the e-learning modules that the shared sample set lacks, with catalogue records.

SYNTHETIC (seeded, deterministic; made with :mod:`everest_elearn.samples`' writer):

- a Sentinel-1 GRD stack over Nsanje / Chiromo (Malawi) from October 2014 to the flood of
  January 2015, as digital numbers made through the REAL calibration LUT of a 2015 Sentinel-1A
  product (so a module calibrates them back with that LUT), with a hill that casts radar shadow,
  a smooth airstrip, a town, the Shire river and its floodplain; truth: water per date, land cover,
  the flood extent, the best change-detection reference;
- one Sentinel-1 GRD scene over Mount Etna (DN through the same LUT, terrain from a cone);
- a Sentinel-2 L2A time series of fields in the Camargue (wheat, maize, rice) with clouds.

REAL, described in place: the two Sentinel-1A SAFE packages and the MERIS FR subset of the shared
fixtures (files only: not rasters a data cube indexes).

The generators live in one module per kind of data (:mod:`.s1`, :mod:`.optical`, :mod:`.real`);
this module keeps every name importable from ``everest_elearn.eo.course_data``.
"""

from __future__ import annotations

from pathlib import Path

from everest_elearn.eo.course_data._shared import NAN, SHAPE
from everest_elearn.eo.course_data.optical import (
    BALTIC,
    CLOUD_FRACTION,
    CROPS,
    FLOODED_RICE,
    OLCI_RADIANCE,
    S2_BOA_ADD_OFFSET,
    S2_DATES,
    S2_SERIES,
    crop_ndvi,
    olci_bloom,
    s2_fields,
)
from everest_elearn.eo.course_data.real import (
    MERIS_COLLECTION,
    SAFE_COLLECTION,
    meris_product,
    safe_products,
)
from everest_elearn.eo.course_data.s1 import (
    BEST_REFERENCE,
    ETNA_GAMMA0_DB,
    ETNA_S1,
    NSANJE,
    NSANJE_STACK,
    S1_DN,
    Acquisition,
    etna_scene,
    nsanje_stack,
)
from everest_elearn.eo.generated import SAFE_FOR_LUT
from everest_elearn.eo.safe import Safe
from everest_elearn.samples.scenes import SampleProduct

__all__ = [
    "BALTIC",
    "BEST_REFERENCE",
    "CLOUD_FRACTION",
    "COLLECTIONS",
    "CROPS",
    "ETNA_GAMMA0_DB",
    "ETNA_S1",
    "FLOODED_RICE",
    "MERIS_COLLECTION",
    "NAN",
    "NSANJE",
    "NSANJE_STACK",
    "OLCI_RADIANCE",
    "REAL_FILES",
    "S1_DN",
    "S2_BOA_ADD_OFFSET",
    "S2_DATES",
    "S2_SERIES",
    "SAFE_COLLECTION",
    "SHAPE",
    "Acquisition",
    "course_products",
    "crop_ndvi",
    "etna_scene",
    "meris_product",
    "nsanje_stack",
    "olci_bloom",
    "s2_fields",
    "safe_products",
]

COLLECTIONS = (S1_DN, S2_SERIES, SAFE_COLLECTION, MERIS_COLLECTION)  # and OLCI_RADIANCE

REAL_FILES = ("safe", "meris", "rasters")


def course_products(dest: Path, base_url: str | None, fixtures: Path) -> list[SampleProduct]:
    """Every product the modules use, written or copied under ``dest`` (served at ``base_url``).

    The real fixtures are copied to ``dest/real`` (a provider serves only its own folder); the
    shared sample set's ocean-colour bloom is written too.
    """
    import shutil

    from everest_elearn.samples.products import ocean_bloom
    from everest_elearn.samples.real import real_products

    dest.mkdir(parents=True, exist_ok=True)
    real = dest / "real"
    for name in REAL_FILES:
        if not (real / name).exists():
            shutil.copytree(fixtures / name, real / name)
    real_url = f"{base_url.rstrip('/')}/real" if base_url else None
    lut = Safe(real / "safe" / f"{SAFE_FOR_LUT}.zip").calibration("VV")
    products = nsanje_stack(dest, base_url, lut)
    products.append(etna_scene(dest, base_url, lut))
    products += s2_fields(dest, base_url)
    products.append(ocean_bloom(dest, base_url))
    products.append(olci_bloom(dest, base_url))
    products += safe_products(real, real_url)
    products.append(meris_product(real, real_url))
    products += real_products(real, real_url)
    return products
