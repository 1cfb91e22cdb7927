"""Sample data for tests, packages and modules: the REAL raster fixtures and SYNTHETIC scenes.

- :func:`generate` writes the SYNTHETIC set (seeded, deterministic, documented as synthetic):
  a Sentinel-1 GRD flood pair at Chiromo (Malawi) with the true flood extent, Sentinel-2 L2A
  scenes over the Camargue and Etna with clouds, cloud mask and SCL, and an OLCI-like ocean-colour
  scene in the Gulf of Cadiz with a bloom of known area.
- :func:`real_products` describes the real fixtures (Sen1Floods11, pyroSAR) in place.

Each item is a :class:`SampleProduct`: its catalogue record, its collection record (whose
``extra["bands"]`` gives the ODC measurements) and its files by asset key.
"""

from everest_elearn.samples.products import COLLECTIONS as SYNTHETIC_COLLECTIONS
from everest_elearn.samples.products import generate
from everest_elearn.samples.real import COLLECTIONS as REAL_COLLECTIONS
from everest_elearn.samples.real import fixtures_dir, real_products
from everest_elearn.samples.scenes import SampleProduct

__all__ = [
    "REAL_COLLECTIONS",
    "SYNTHETIC_COLLECTIONS",
    "SampleProduct",
    "fixtures_dir",
    "generate",
    "real_products",
]
