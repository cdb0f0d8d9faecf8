"""Build the bundled SYNTHETIC reference sets of authentic samples (origin fingerprints), reproducibly.

    .venv/bin/python geo_data/references/build_synthetic.py

No public per-sample data set of authentic Chinese GI samples could be shipped, so each population below is
drawn from a multivariate normal distribution (in log10 space for element concentrations) whose means and
standard deviations are either taken from a published paper ("published") or assumed by us within the ranges
such papers report ("assumed"); see SOURCES.md beside this script. The output is clearly labelled synthetic in
every CSV header and JSON sidecar. The code that reads these files reads real reference sets in the same format.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
YEARS = (2021, 2022, 2023, 2024)

ISOTOPE = {
    "d13C": {"unit": "‰", "scale": "VPDB", "name": "δ13C"},
    "d15N": {"unit": "‰", "scale": "AIR", "name": "δ15N"},
    "d18O": {"unit": "‰", "scale": "VSMOW", "name": "δ18O"},
    "d2H": {"unit": "‰", "scale": "VSMOW", "name": "δ2H"},
}
ELEMENT_NAMES = {
    "Rb": "rubidium",
    "Mg": "magnesium",
    "K": "potassium",
    "Mn": "manganese",
    "Sr": "strontium",
    "Na": "sodium",
}

S_DENG = {
    "citation": "Deng X, Liu Z, Zhan Y, Ni K, Zhang Y, Ma W, Shao S, Lv X, Yuan Y, Rogers KM (2020). "
    "Predictive geographical authentication of green tea with protected designation of origin "
    "using a random forest model. Food Control 107: 106807.",
    "doi": "10.1016/j.foodcont.2019.106807",
    "used_for": "choice of variables: Rb, Mg, δ13C and K were the most important of 19 predictors "
    "(623 samples, 2012-2016; Xihu Longjing told apart with 97.6 % accuracy)",
}
S_WANG = {
    "citation": "Wang J, Shi Y, Zhang Q, Ni K, Yi X, Ma L, Ruan J (2016). Geographical tracing of the West "
    "Lake Longjing tea based on the stable isotope ratios. Tongweisu (Journal of Isotopes) 29(3): "
    "129-139.",
    "doi": "10.7538/tws.2016.29.03.0129",
    "used_for": "comparison areas: flat-shaped tea from Hangzhou, Shaoxing (越州产区) and other provinces "
    "differs in C, H, O, N isotope ratios",
}
S_ZHANG = {
    "citation": "Zhang L, Pan J, Zhu C (2012). Determination of the geographical origin of Chinese teas "
    "based on stable carbon and nitrogen isotope ratios. J Zhejiang Univ Sci B 13(10): 824-830.",
    "doi": "10.1631/jzus.B1200046",
    "used_for": "δ13C and δ15N alone separate some provinces but not Zhejiang's neighbours: combine with "
    "elements",
}
S_WLT = {
    "citation": "Quality characteristics of white leaf tea of 'Baiye 1' (Camellia sinensis) in different "
    "producing areas. Agronomy 2023, 13(10): 2526.",
    "doi": "10.3390/agronomy13102526",
    "used_for": "Anji white tea ('Baiye 1') differs from the same cultivar grown elsewhere in elements and "
    "stable isotope ratios (93 samples, 22 elements, 3 isotope ratios)",
}
S_QIAN = {
    "citation": "Qian L, et al. (2019). Determination of "
    "geographical origin of Wuchang rice with the geographical indicator by multielement "
    "analysis. Journal of Food Quality 2019: 8396865.",
    "doi": "10.1155/2019/8396865",
    "used_for": "areas and variables: Wuchang vs Qiqihar and Jiamusi rice, 16 elements incl. Rb, Sr, Mn, "
    "Na (194 samples, 2013-2014); Wuchang rice identified 100 %",
}
S_CHEN = {
    "citation": "Chen T, Zhao Y, Zhang W, Yang S, Ye Z, Zhang G (2016). Variation of the light stable "
    "isotopes in the superior and inferior grains of rice (Oryza sativa L.) with different "
    "geographical origins. Food Chemistry 209.",
    "doi": "10.1016/j.foodchem.2016.04.029",
    "used_for": "δ18O and δ2H separate Wuchang from Fujin (Jiamusi) Daohuaxiang rice; δ13C and δ15N overlap",
}
S_SUZUKI = {
    "citation": "Suzuki Y, Chikaraishi Y, Ogawa NO, Ohkouchi N, Korenaga T (2008). Geographical origin "
    "of polished rice based on multiple element and stable isotope analyses. Food Chemistry "
    "109(2): 470-475.",
    "doi": "10.1016/j.foodchem.2007.12.063",
    "used_for": "plausible ranges for polished rice: δ13C -27.1 to -25.4 ‰, δ15N +0.4 to +9.0 ‰, "
    "δ18O +18.8 to +22.9 ‰ (Koshihikari, 14 areas)",
}
S_XING = {
    "citation": "Xing X, Sun F, Zhang W, Zhang W, Zhang Y, Rogers KM, Li C, Yuan Y (2025). Stable isotope "
    "and elemental characteristics for origin identification of rice from China and Thailand. "
    "Plants 15(1): 42.",
    "doi": "10.3390/plants15010042",
    "used_for": "published means ± SD of Thai rice: δ13C -26.4 ± 0.4 ‰, δ18O 25.9 ± 1.1 ‰, "
    "δ15N 3.5 ± 0.8 ‰ (abstract)",
}
S_BERTOLDI = {
    "citation": "Bertoldi D, et al. (2019). Characterisation and geographical traceability of Italian "
    "goji berries. Food Chemistry 275: 585.",
    "doi": "10.1016/j.foodchem.2018.09.098",
    "used_for": "plausible ranges for goji berries: δ13C -28.2 to -25.7 ‰, δ15N 2.3 to 7.3 ‰, "
    "δ2H -112 to -49 ‰ (Italian berries)",
}
S_JU = {
    "citation": "Ju Y, Liu H, Niu S, Kang L, Ma L, Li A, Zhao Y, Yuan Y, Zhao D (2025). Optimizing "
    "geographical traceability models of Chinese Lycium barbarum: investigating effects of region, "
    "cultivar, and harvest year on nutrients, bioactives, elements and stable isotope composition. "
    "Food Chemistry: 142286.",
    "doi": "10.1016/j.foodchem.2024.142286",
    "used_for": "Chinese goji regions (Ningxia, Qinghai, ...) differ in elements and stable isotopes; harvest "
    "year matters, so references need renewal",
}

# mean, sd, status ("published" or "assumed"); element concentrations in mg/kg dry mass
SETS: list[dict] = [
    {
        "product_code": "xihu-longjing",
        "area_zh": "西湖龙井（龙井茶西湖产区）",
        "area_en": "Xihu Longjing (West Lake area)",
        "commodity": "green tea",
        "n": 120,
        "seed": 20241,
        "variables": {
            "d13C": (-27.8, 0.6, "assumed"),
            "d15N": (3.5, 1.0, "assumed"),
            "Rb": (45, 12, "assumed"),
            "Mg": (1900, 200, "assumed"),
            "K": (17500, 1500, "assumed"),
            "Mn": (900, 250, "assumed"),
        },
        "correlations": {("Rb", "K"): 0.5, ("Mg", "K"): 0.3, ("Rb", "Mn"): 0.3},
        "sources": [S_DENG, S_WANG, S_ZHANG],
    },
    {
        "product_code": "longjing-yuezhou",
        "area_zh": "龙井茶越州产区（绍兴等，非西湖产区）",
        "area_en": "Longjing tea, Yuezhou area (Shaoxing; not West Lake)",
        "commodity": "green tea",
        "n": 100,
        "seed": 20242,
        "variables": {
            "d13C": (-27.1, 0.6, "assumed"),
            "d15N": (4.8, 1.1, "assumed"),
            "Rb": (105, 25, "assumed"),
            "Mg": (2250, 230, "assumed"),
            "K": (18600, 1600, "assumed"),
            "Mn": (1350, 350, "assumed"),
        },
        "correlations": {("Rb", "K"): 0.5, ("Mg", "K"): 0.3, ("Rb", "Mn"): 0.3},
        "sources": [S_DENG, S_WANG],
    },
    {
        "product_code": "anji-white-tea",
        "area_zh": "安吉白茶（安吉县）",
        "area_en": "Anji white tea (Anji county)",
        "commodity": "green tea",
        "n": 100,
        "seed": 20243,
        "variables": {
            "d13C": (-28.8, 0.6, "assumed"),
            "d15N": (2.6, 1.0, "assumed"),
            "Rb": (75, 20, "assumed"),
            "Mg": (1550, 200, "assumed"),
            "K": (20500, 1500, "assumed"),
            "Mn": (1200, 300, "assumed"),
        },
        "correlations": {("Rb", "K"): 0.5, ("Mg", "K"): 0.3, ("Rb", "Mn"): 0.3},
        "sources": [S_DENG, S_WLT],
    },
    {
        "product_code": "wuchang-rice",
        "area_zh": "五常大米（五常市）",
        "area_en": "Wuchang rice (Wuchang city)",
        "commodity": "rice",
        "n": 120,
        "seed": 20244,
        "variables": {
            "d13C": (-27.3, 0.4, "assumed"),
            "d15N": (4.5, 1.0, "assumed"),
            "d18O": (19.5, 1.0, "assumed"),
            "d2H": (-85, 6, "assumed"),
            "Rb": (3.5, 1.0, "assumed"),
            "Sr": (0.35, 0.08, "assumed"),
        },
        "correlations": {("d18O", "d2H"): 0.7},
        "sources": [S_QIAN, S_CHEN, S_SUZUKI],
    },
    {
        "product_code": "heilongjiang-jiamusi-rice",
        "area_zh": "佳木斯稻米（富锦等，非五常）",
        "area_en": "Jiamusi rice (Fujin etc.; not Wuchang)",
        "commodity": "rice",
        "n": 90,
        "seed": 20245,
        "variables": {
            "d13C": (-26.9, 0.4, "assumed"),
            "d15N": (5.5, 1.0, "assumed"),
            "d18O": (17.2, 1.0, "assumed"),
            "d2H": (-99, 6, "assumed"),
            "Rb": (1.9, 0.6, "assumed"),
            "Sr": (0.55, 0.1, "assumed"),
        },
        "correlations": {("d18O", "d2H"): 0.7},
        "sources": [S_QIAN, S_CHEN],
    },
    {
        "product_code": "thai-hom-mali-rice",
        "area_zh": "泰国香米（对照）",
        "area_en": "Thai jasmine rice (comparison)",
        "commodity": "rice",
        "n": 60,
        "seed": 20246,
        "variables": {
            "d13C": (-26.4, 0.4, "published"),
            "d15N": (3.5, 0.8, "published"),
            "d18O": (25.9, 1.1, "published"),
        },
        "correlations": {},
        "sources": [S_XING],
    },
    {
        "product_code": "ningxia-goji",
        "area_zh": "宁夏枸杞（中宁等）",
        "area_en": "Ningxia goji (Zhongning etc.)",
        "commodity": "goji berry",
        "n": 100,
        "seed": 20247,
        "variables": {
            "d13C": (-26.6, 0.6, "assumed"),
            "d15N": (6.5, 1.4, "assumed"),
            "d2H": (-72, 8, "assumed"),
            "Rb": (8.0, 2.5, "assumed"),
            "Sr": (12, 3, "assumed"),
            "Na": (300, 100, "assumed"),
        },
        "correlations": {("Sr", "Na"): 0.3},
        "sources": [S_JU, S_BERTOLDI],
    },
    {
        "product_code": "qinghai-qaidam-goji",
        "area_zh": "柴达木枸杞（青海，对照）",
        "area_en": "Qaidam goji (Qinghai; comparison)",
        "commodity": "goji berry",
        "n": 80,
        "seed": 20248,
        "variables": {
            "d13C": (-25.4, 0.6, "assumed"),
            "d15N": (8.2, 1.4, "assumed"),
            "d2H": (-58, 8, "assumed"),
            "Rb": (4.8, 1.5, "assumed"),
            "Sr": (21, 5, "assumed"),
            "Na": (850, 250, "assumed"),
        },
        "correlations": {("Sr", "Na"): 0.3},
        "sources": [S_JU, S_BERTOLDI],
    },
]

PREFIX = {
    "xihu-longjing": "XHLJ",
    "longjing-yuezhou": "LJYZ",
    "anji-white-tea": "AJBC",
    "wuchang-rice": "WCDM",
    "heilongjiang-jiamusi-rice": "JMSR",
    "thai-hom-mali-rice": "THHM",
    "ningxia-goji": "NXGQ",
    "qinghai-qaidam-goji": "CDMG",
}


def _variable_meta(code: str) -> dict:
    if code in ISOTOPE:
        return {**ISOTOPE[code], "transform": "none"}
    return {"unit": "mg/kg", "basis": "dry mass", "transform": "log10", "name": ELEMENT_NAMES.get(code, code)}


def draw(spec: dict) -> tuple[list[str], np.ndarray]:
    """The synthetic rows of one set: correlated normals, exponentiated for log-normal concentrations."""
    codes = list(spec["variables"])
    p = len(codes)
    corr = np.eye(p)
    for (a, b), r in spec["correlations"].items():
        i, j = codes.index(a), codes.index(b)
        corr[i, j] = corr[j, i] = r
    rng = np.random.default_rng(spec["seed"])
    z = rng.multivariate_normal(np.zeros(p), corr, size=spec["n"])
    columns = []
    for j, code in enumerate(codes):
        mean, sd, _ = spec["variables"][code]
        if _variable_meta(code)["transform"] == "log10":
            sigma2 = math.log(1 + (sd / mean) ** 2)  # log-normal with this arithmetic mean and SD
            mu = math.log(mean) - sigma2 / 2
            columns.append(np.exp(mu + math.sqrt(sigma2) * z[:, j]))
        else:
            columns.append(mean + sd * z[:, j])
    return codes, np.column_stack(columns)


def _fmt(code: str, value: float) -> str:
    if code in ISOTOPE:
        return f"{value:.2f}"
    return f"{value:.4g}" if value < 1000 else f"{value:.0f}"


def write_set(spec: dict) -> Path:
    """Write ``<product_code>.csv`` and ``.json`` for one set."""
    codes, data = draw(spec)
    code = spec["product_code"]
    csv_path = HERE / f"{code}.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(f"# SYNTHETIC reference set - NOT measured data. {spec['area_en']} ({spec['area_zh']}).\n")
        fh.write(
            f"# Drawn by geo_data/references/build_synthetic.py (seed {spec['seed']}, n {spec['n']}) from means "
            "and SDs that are published or assumed; see the JSON sidecar and SOURCES.md.\n"
        )
        fh.write("# Sources: " + "; ".join(f"doi:{s['doi']}" for s in spec["sources"]) + "\n")
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["product_code", "sample_id", "year", *codes])
        for i, row in enumerate(data):
            writer.writerow(
                [
                    code,
                    f"SYN-{PREFIX[code]}-{i + 1:04d}",
                    YEARS[i % len(YEARS)],
                    *(_fmt(c, v) for c, v in zip(codes, row, strict=True)),
                ]
            )
    meta = {
        "product_code": code,
        "area_zh": spec["area_zh"],
        "area_en": spec["area_en"],
        "commodity": spec["commodity"],
        "synthetic": True,
        "warning": "SYNTHETIC: drawn from published or assumed means and SDs; not measurements of real samples. "
        "Replace with an authentic reference set before any official use.",
        "variables": {c: _variable_meta(c) for c in codes},
        "generator": {
            "script": "geo_data/references/build_synthetic.py",
            "seed": spec["seed"],
            "n": spec["n"],
            "distribution": "multivariate normal; element concentrations log-normal with the given arithmetic "
            "mean and SD",
            "parameters": {
                c: {"mean": m, "sd": s, "status": st} for c, (m, s, st) in spec["variables"].items()
            },
            "correlations_assumed": [{"a": a, "b": b, "r": r} for (a, b), r in spec["correlations"].items()],
        },
        "sources": spec["sources"],
    }
    csv_path.with_suffix(".json").write_text(
        json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return csv_path


if __name__ == "__main__":
    for spec in SETS:
        print(write_set(spec).name)
