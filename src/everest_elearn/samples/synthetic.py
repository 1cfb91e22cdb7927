"""Synthetic pixels that behave like the real thing (SYNTHETIC: made by a seeded generator).

Pure numpy, deterministic for a given seed. Values follow published typical ranges:
C-band sigma0 of open water about -20 to -25 dB (VV) and of farmland about -8 to -12 dB (VV),
VH about 6 to 8 dB lower; multiplicative speckle is gamma distributed with mean 1 and variance
1/ENL (ENL about 4.4 for Sentinel-1 IW GRDH); Sentinel-2 L2A reflectance scaled by 10000.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]

S1_ENL = 4.4


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], scale: float) -> Array:
    """Spatially correlated noise (Gaussian-filtered white noise), zero mean, unit variance."""
    white = rng.standard_normal(shape)
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.fftfreq(shape[1])[None, :]
    kernel = np.exp(-2 * (np.pi * scale) ** 2 * (fx**2 + fy**2))
    field = np.real(np.fft.ifft2(np.fft.fft2(white) * kernel))
    result: Array = (field - field.mean()) / (field.std() or 1.0)
    return result


def speckle(rng: np.random.Generator, shape: tuple[int, int], enl: float = S1_ENL) -> Array:
    """Multiplicative speckle: gamma(shape=ENL, scale=1/ENL), mean 1."""
    return rng.gamma(enl, 1.0 / enl, shape)


def to_db(linear: Array) -> Array:
    return 10.0 * np.log10(np.maximum(linear, 1e-6))


@dataclass(frozen=True)
class FloodPlain:
    """A river with its floodplain: the permanent water and the water after a flood."""

    river: Mask
    flooded: Mask  # water on the flood date (river included)

    @property
    def flood(self) -> Mask:
        """Pixels that are water after the flood but not before: the known true extent."""
        return self.flooded & ~self.river


def flood_plain(seed: int, shape: tuple[int, int], flood_fraction: float = 0.18) -> FloodPlain:
    """A meandering river and the lowest ground beside it, flooded to ``flood_fraction``."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    meander = shape[1] * (0.5 + 0.18 * np.sin(rows / shape[0] * 2.6 * np.pi + rng.uniform(0, 6)))
    distance = np.abs(cols - meander)
    river = distance < shape[1] * 0.025
    # Ground rises away from the river with gentle relief; the flood fills the lowest part.
    height = distance / shape[1] + 0.08 * smooth_noise(rng, shape, 12)
    threshold = np.quantile(height, flood_fraction)
    return FloodPlain(river=river, flooded=river | (height < threshold))


def sar_backscatter(
    seed: int, water: Mask, shape: tuple[int, int], enl: float = S1_ENL
) -> dict[str, Array]:
    """sigma0 VV and VH in linear power for land with ``water`` (float64)."""
    rng = np.random.default_rng(seed)
    texture = smooth_noise(rng, shape, 6)
    vv_db = np.where(water, -22.0 + 0.8 * texture, -9.5 + 1.6 * texture)
    vh_db = np.where(water, -28.5 + 0.8 * texture, -16.0 + 1.8 * texture)
    return {
        "vv": 10 ** (vv_db / 10) * speckle(rng, shape, enl),
        "vh": 10 ** (vh_db / 10) * speckle(rng, shape, enl),
    }


# Sentinel-2 L2A surface reflectance of three covers (x10000), bands B02 B03 B04 B08 B11 B12.
S2_BANDS = ("B02", "B03", "B04", "B08", "B11", "B12")
_COVER = {
    "vegetation": (350, 700, 400, 3800, 1900, 900),
    "soil": (900, 1200, 1500, 2300, 3000, 2600),
    "water": (600, 750, 450, 200, 80, 50),
    "cloud": (7200, 7300, 7400, 7600, 5200, 3600),
}
# Scene classification (SCL) codes of the L2A product.
SCL = {"shadow": 3, "vegetation": 4, "soil": 5, "water": 6, "cloud_medium": 8, "cloud_high": 9}


@dataclass(frozen=True)
class OpticalScene:
    reflectance: dict[str, npt.NDArray[np.uint16]]
    scl: npt.NDArray[np.uint8]
    cloud: Mask
    water: Mask
    vegetation: Mask


def s2_scene(seed: int, shape: tuple[int, int], cloud_fraction: float = 0.2) -> OpticalScene:
    """Fields of vegetation and bare soil around lagoons, with clouds and their shadows."""
    rng = np.random.default_rng(seed)
    land = smooth_noise(rng, shape, 10)
    water = land < np.quantile(land, 0.2)
    vegetation = ~water & (smooth_noise(rng, shape, 5) > -0.2)
    cloudiness = smooth_noise(rng, shape, 14)
    cloud = cloudiness > np.quantile(cloudiness, 1 - cloud_fraction)
    shadow = np.roll(cloud, (12, -12), axis=(0, 1)) & ~cloud
    opacity = np.clip((cloudiness - np.quantile(cloudiness, 1 - cloud_fraction)) * 3, 0, 1)
    reflectance = {}
    for i, band in enumerate(S2_BANDS):
        surface = np.where(
            water,
            _COVER["water"][i],
            np.where(vegetation, _COVER["vegetation"][i], _COVER["soil"][i]),
        ).astype(np.float64)
        surface *= 1 + 0.06 * smooth_noise(rng, shape, 2)
        surface = np.where(shadow, surface * 0.45, surface)
        value = surface * (1 - opacity) + _COVER["cloud"][i] * opacity
        reflectance[band] = np.clip(value, 1, 10000).astype(np.uint16)
    scl = np.where(water, SCL["water"], np.where(vegetation, SCL["vegetation"], SCL["soil"]))
    scl = np.where(shadow, SCL["shadow"], scl)
    scl = np.where(cloud, np.where(opacity > 0.5, SCL["cloud_high"], SCL["cloud_medium"]), scl)
    return OpticalScene(reflectance, scl.astype(np.uint8), cloud, water, vegetation & ~cloud)


# OLCI-like top-of-atmosphere radiance (mW m-2 sr-1 nm-1) of clear sea water, by band.
OLCI_BANDS = {
    "Oa03": 442.5,
    "Oa04": 490.0,
    "Oa06": 560.0,
    "Oa08": 665.0,
    "Oa10": 681.25,
    "Oa11": 708.75,
    "Oa17": 865.0,
}
_SEA = (62.0, 48.0, 30.0, 14.0, 13.0, 10.0, 6.0)
_BLOOM = (
    -10.0,
    -4.0,
    9.0,
    1.5,
    3.5,
    3.0,
    0.6,
)  # chlorophyll absorbs blue, scatters green, fluoresces at 681
_LAND = (70.0, 62.0, 58.0, 55.0, 55.0, 70.0, 95.0)


@dataclass(frozen=True)
class OceanScene:
    radiance: dict[str, Array]
    bloom: Mask
    land: Mask


def ocean_scene(seed: int, shape: tuple[int, int], bloom_fraction: float = 0.12) -> OceanScene:
    """Sea with a coast in the north-east and a phytoplankton bloom in an eddy."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    coast = rows + (shape[1] - cols) * 0.9 + 10 * smooth_noise(rng, shape, 8)
    land = coast < shape[0] * 0.35
    eddy = np.hypot(rows - shape[0] * 0.6, cols - shape[1] * 0.4) / shape[0] + 0.1 * smooth_noise(
        rng, shape, 6
    )
    bloom = ~land & (eddy < np.quantile(eddy[~land], bloom_fraction))
    strength = np.clip(1.0 - eddy / max(float(eddy[bloom].max()), 1e-9), 0.2, 1.0)
    radiance = {}
    for i, band in enumerate(OLCI_BANDS):
        sea = _SEA[i] * (1 + 0.02 * smooth_noise(rng, shape, 3)) + np.where(
            bloom, _BLOOM[i] * strength, 0.0
        )
        value = np.where(land, _LAND[i] * (1 + 0.08 * smooth_noise(rng, shape, 2)), sea)
        radiance[band] = value * (1 + 0.004 * rng.standard_normal(shape))
    return OceanScene(radiance, bloom, land)
