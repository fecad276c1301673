"""The demo city (a fictional 云州市) with ~90 days of history, and the live event simulator.

Everything is generated from a seeded random generator, so two runs give the same city. The
history has a daily and weekly rhythm, a category mix like a real city's, departments that
perform differently, and a few surges (a storm, a wage dispute at one site). The simulator posts
through the same ingest code path as the API.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from dashboard import privacy
from dashboard.clock import utcnow
from dashboard.db import (
    bulk_insert,
    bulk_insert_columns,
    bulk_load,
    reset_sequences,
    without_indexes,
)
from dashboard.domain import LEVELS, SOURCES
from dashboard.models import Area, Event, Transition

log = logging.getLogger(__name__)

SIMULATOR_TICK_SECONDS = 5.0
CITY_CODE = "3390"

DISTRICTS = [
    ("青云区", "Qingyun"),
    ("临江区", "Linjiang"),
    ("望湖区", "Wanghu"),
    ("金桥区", "Jinqiao"),
    ("松岭区", "Songling"),
    ("白沙区", "Baisha"),
    ("新港区", "Xingang"),
    ("南山县", "Nanshan"),
]
STREET_WORDS = list(
    "东西南北中新安和平兴华文明光明长乐永宁福康泰盛丰裕清河柳湾桃源杏林枫桥梅园竹溪莲塘"
    "翠屏云台锦绣春晖朝阳望江凤凰龙泉玉泉石桥古城北关南苑东湖西岭金沙银滩"
)
COMMUNITY_WORDS = list("春夏秋冬梅兰竹菊松柏桂荷枫榕樟杉柳杨桃李杏梨")
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红建国志春梅海燕")

# code, zh, en, performance (multiplier on delays: < 1 fast, > 1 late)
DEPARTMENTS = [
    ("GA", "公安局", "Public Security", 0.7),
    ("CG", "城管局", "Urban Management", 0.85),
    ("ZJ", "住建局", "Housing and Construction", 1.6),
    ("MZ", "民政局", "Civil Affairs", 0.9),
    ("SF", "司法局", "Justice", 0.8),
    ("YJ", "应急管理局", "Emergency Management", 0.75),
    ("SJ", "市场监管局", "Market Regulation", 1.1),
    ("ST", "生态环境局", "Ecology and Environment", 1.25),
    ("RS", "人社局", "Human Resources and Social Security", 1.35),
    ("XF", "信访局", "Letters and Visits", 1.0),
    ("JT", "交通运输局", "Transport", 1.05),
    ("SW", "水务局", "Water Affairs", 1.5),
]

# code, zh, en, weight, dispute, (dispatch, handle, close hours), default dept,
#   [(sub code, zh, en, weight, sensitive, dept or None)], source weights (grid, hotline, video, iot, citizen, department)
CATEGORIES = [
    (
        "01",
        "市容环境",
        "City appearance",
        30,
        False,
        (1, 24, 48),
        "CG",
        [
            ("0101", "暴露垃圾", "Exposed garbage", 30, False, None),
            ("0102", "乱堆物料", "Piled materials", 15, False, None),
            ("0103", "占道经营", "Street vending", 25, False, None),
            ("0104", "违规广告", "Illegal advertising", 10, False, None),
            ("0105", "乱贴乱画", "Graffiti and flyers", 12, False, None),
            ("0106", "共享单车乱停放", "Misparked shared bikes", 8, False, "JT"),
        ],
        (45, 15, 25, 5, 10, 0),
    ),
    (
        "02",
        "矛盾纠纷",
        "Disputes",
        22,
        True,
        (2, 72, 120),
        "SF",
        [
            ("0201", "邻里纠纷", "Neighbour dispute", 35, False, None),
            ("0202", "家庭纠纷", "Family dispute", 15, False, None),
            ("0203", "物业纠纷", "Property management dispute", 22, False, "ZJ"),
            ("0204", "劳资纠纷", "Labour dispute", 12, False, "RS"),
            ("0205", "土地山林纠纷", "Land dispute", 8, False, None),
            ("0206", "消费纠纷", "Consumer dispute", 8, False, "SJ"),
        ],
        (45, 40, 0, 0, 10, 5),
    ),
    (
        "03",
        "公共设施",
        "Public facilities",
        12,
        False,
        (2, 48, 96),
        "CG",
        [
            ("0301", "井盖缺失", "Missing manhole cover", 15, False, "SW"),
            ("0302", "路灯损坏", "Broken street light", 25, False, None),
            ("0303", "道路破损", "Damaged road", 25, False, "JT"),
            ("0304", "积水内涝", "Waterlogging", 10, False, "SW"),
            ("0305", "健身设施损坏", "Broken fitness equipment", 25, False, None),
        ],
        (40, 20, 15, 15, 10, 0),
    ),
    (
        "04",
        "安全隐患",
        "Safety hazards",
        10,
        False,
        (1, 24, 48),
        "YJ",
        [
            ("0401", "消防通道堵塞", "Blocked fire lane", 30, False, None),
            ("0402", "电动车违规充电", "Unsafe e-bike charging", 30, False, None),
            ("0403", "燃气隐患", "Gas hazard", 15, False, "ZJ"),
            ("0404", "危房", "Dangerous building", 10, False, "ZJ"),
            ("0405", "高空坠物风险", "Falling object risk", 15, False, None),
        ],
        (50, 10, 20, 10, 10, 0),
    ),
    (
        "05",
        "治安",
        "Public order",
        6,
        False,
        (0.5, 12, 24),
        "GA",
        [
            ("0501", "噪音扰民", "Noise nuisance", 45, False, None),
            ("0502", "可疑人员", "Suspicious person", 20, False, None),
            ("0503", "非法营运", "Illegal taxi", 20, False, "JT"),
            ("0504", "打架斗殴", "Fight", 15, False, None),
        ],
        (30, 45, 10, 0, 10, 5),
    ),
    (
        "06",
        "劳动保障",
        "Labour protection",
        4,
        False,
        (4, 120, 240),
        "RS",
        [
            ("0601", "欠薪", "Unpaid wages", 70, False, None),
            ("0602", "劳动合同", "Labour contract", 30, False, None),
        ],
        (20, 60, 0, 0, 15, 5),
    ),
    (
        "07",
        "生态环境",
        "Environment",
        5,
        False,
        (2, 72, 120),
        "ST",
        [
            ("0701", "噪声污染", "Noise pollution", 30, False, None),
            ("0702", "水体污染", "Water pollution", 20, False, None),
            ("0703", "油烟扰民", "Cooking fumes", 35, False, None),
            ("0704", "露天焚烧", "Open burning", 15, False, None),
        ],
        (35, 30, 10, 15, 10, 0),
    ),
    (
        "08",
        "违法建设",
        "Illegal construction",
        4,
        False,
        (4, 168, 240),
        "ZJ",
        [
            ("0801", "违章搭建", "Illegal structure", 75, False, None),
            ("0802", "私拆承重墙", "Removed load-bearing wall", 25, False, None),
        ],
        (55, 20, 10, 0, 10, 5),
    ),
    (
        "09",
        "民生服务",
        "Livelihood services",
        5,
        False,
        (4, 72, 168),
        "MZ",
        [
            ("0901", "困难救助", "Hardship assistance", 40, False, None),
            ("0902", "养老服务", "Elderly care", 35, False, None),
            ("0903", "食品安全", "Food safety", 25, False, "SJ"),
        ],
        (40, 40, 0, 0, 10, 10),
    ),
    (
        "10",
        "突发事件",
        "Emergencies",
        2,
        False,
        (0.5, 6, 24),
        "YJ",
        [
            ("1001", "群体性事件", "Mass incident", 25, True, "GA"),
            ("1002", "安全生产事故", "Work-safety accident", 35, True, None),
            ("1003", "自然灾害险情", "Natural hazard", 40, False, None),
        ],
        (40, 30, 15, 10, 0, 5),
    ),
]
SEVERITY_FACTOR = {1: 1.0, 2: 0.5, 3: 0.25, 4: 0.125}
HOUR_PROFILE = np.array(
    [
        0.15,
        0.1,
        0.08,
        0.08,
        0.1,
        0.2,
        0.5,
        1.0,
        1.6,
        1.9,
        1.9,
        1.6,
        1.1,
        1.2,
        1.6,
        1.8,
        1.7,
        1.4,
        1.1,
        0.9,
        0.7,
        0.5,
        0.35,
        0.22,
    ]
)
WEEKDAY_FACTOR = np.array([1.08, 1.04, 1.02, 1.0, 0.98, 0.78, 0.72])  # Mon … Sun


@dataclass
class City:
    areas: pd.DataFrame  # id, code, name, level, parent_id, district_id, street_id, community_id, …
    departments: pd.DataFrame  # id, code, perf
    subcategories: pd.DataFrame  # id, code, parent_id, weight, is_dispute, limits, dept_id …


def _ring_walk(points: list[tuple[float, float]]) -> dict:
    ring = [[round(x, 5), round(y, 5)] for x, y in points]
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}


def _geometry(rng: np.random.Generator, cols: int, rows: int, bbox) -> tuple:
    """A jittered lattice: shared corner points and edge midpoints, so neighbours tile exactly."""
    x0, y0, x1, y1 = bbox
    dx, dy = (x1 - x0) / cols, (y1 - y0) / rows
    P = np.zeros((cols + 1, rows + 1, 2))
    for i in range(cols + 1):
        for j in range(rows + 1):
            jx = 0 if i in (0, cols) else rng.uniform(-0.28, 0.28) * dx
            jy = 0 if j in (0, rows) else rng.uniform(-0.28, 0.28) * dy
            P[i, j] = (x0 + i * dx + jx, y0 + j * dy + jy)
    # Outer edge: wobble the border a little too, keeping corners shared.
    for i in range(cols + 1):
        P[i, 0, 1] += rng.uniform(-0.15, 0.15) * dy
        P[i, rows, 1] += rng.uniform(-0.15, 0.15) * dy
    for j in range(rows + 1):
        P[0, j, 0] += rng.uniform(-0.15, 0.15) * dx
        P[cols, j, 0] += rng.uniform(-0.15, 0.15) * dx
    H = {}  # midpoint of the edge (i, j) → (i + 1, j)
    V = {}  # midpoint of the edge (i, j) → (i, j + 1)
    for i in range(cols):
        for j in range(rows + 1):
            m = (P[i, j] + P[i + 1, j]) / 2
            H[i, j] = (m[0], m[1] + rng.uniform(-0.18, 0.18) * dy)
    for i in range(cols + 1):
        for j in range(rows):
            m = (P[i, j] + P[i, j + 1]) / 2
            V[i, j] = (m[0] + rng.uniform(-0.18, 0.18) * dx, m[1])
    return P, H, V


def _block_outline(P, H, V, c0: int, c1: int, r0: int, r1: int) -> dict:
    """Counter-clockwise outline of the cell block [c0, c1) × [r0, r1)."""
    pts = []
    for i in range(c0, c1):
        pts += [tuple(P[i, r0]), H[i, r0]]
    for j in range(r0, r1):
        pts += [tuple(P[c1, j]), V[c1, j]]
    for i in range(c1, c0, -1):
        pts += [tuple(P[i, r1]), H[i - 1, r1]]
    for j in range(r1, r0, -1):
        pts += [tuple(P[c0, j]), V[c0, j - 1]]
    return _ring_walk(pts)


def build_city(conn, rng: np.random.Generator, city_name: str) -> City:
    """Areas with boundaries, departments, categories and time limits."""
    cols, rows = 16, 4
    bbox = (117.90, 30.10, 118.70, 30.50)
    P, H, V = _geometry(rng, cols, rows, bbox)
    areas = []
    next_id = 1

    def add(**kw):
        nonlocal next_id
        kw["id"] = next_id
        next_id += 1
        areas.append(kw)
        return kw

    city = add(
        code=CITY_CODE,
        name=city_name,
        level="city",
        parent_id=None,
        district_id=None,
        street_id=None,
        community_id=None,
        boundary=None,
        lat=30.3,
        lon=118.3,
    )
    street_names = rng.permutation(len(STREET_WORDS) // 2)
    s_index = 0
    density = np.array([1.6, 1.4, 1.2, 1.0, 0.9, 0.8, 0.7, 0.55])  # central districts are dense
    grid_rows = []
    for d, (dzh, _den) in enumerate(DISTRICTS):
        c0, r0 = (d % 4) * 4, (d // 4) * 2
        dist = add(
            code=f"{CITY_CODE}{d + 1:02d}",
            name=dzh,
            level="district",
            parent_id=city["id"],
            district_id=None,
            street_id=None,
            community_id=None,
            boundary=json.dumps(_block_outline(P, H, V, c0, c0 + 4, r0, r0 + 2)),
        )
        dist["district_id"] = dist["id"]
        for k in range(8):
            ci, rj = c0 + k % 4, r0 + k // 4
            w = STREET_WORDS[2 * street_names[s_index % len(street_names)] :][:2]
            s_index += 1
            st = add(
                code=f"{dist['code']}{k + 1:03d}",
                name="".join(w) + "街道",
                level="street",
                parent_id=dist["id"],
                district_id=dist["id"],
                street_id=None,
                community_id=None,
                boundary=json.dumps(_block_outline(P, H, V, ci, ci + 1, rj, rj + 1)),
            )
            st["street_id"] = st["id"]
            corners = np.array([P[ci, rj], P[ci + 1, rj], P[ci + 1, rj + 1], P[ci, rj + 1]])
            n_comm = int(rng.integers(5, 9))
            for c in range(n_comm):
                word = COMMUNITY_WORDS[int(rng.integers(len(COMMUNITY_WORDS)))]
                suffix = "社区" if d < 7 else "村"
                com = add(
                    code=f"{st['code']}{c + 1:03d}",
                    name=f"{word}{'苑园湾里庭'[c % 5]}{suffix}",
                    level="community",
                    parent_id=st["id"],
                    district_id=dist["id"],
                    street_id=st["id"],
                    community_id=None,
                    boundary=None,
                )
                com["community_id"] = com["id"]
                cu, cv = rng.uniform(0.1, 0.9, 2)
                n_grid = int(rng.integers(6, 10))
                lats, lons = [], []
                for g in range(n_grid):
                    u = np.clip(cu + rng.normal(0, 0.06), 0.02, 0.98)
                    v = np.clip(cv + rng.normal(0, 0.06), 0.02, 0.98)
                    pt = (
                        (1 - u) * (1 - v) * corners[0]
                        + u * (1 - v) * corners[1]
                        + u * v * corners[2]
                        + (1 - u) * v * corners[3]
                    )
                    households = int(rng.integers(300, 501) * (0.8 + 0.2 * density[d]))
                    gr = add(
                        code=f"{com['code']}{g + 1:02d}",
                        name=f"{com['name']}第{g + 1}网格",
                        level="grid",
                        parent_id=com["id"],
                        district_id=dist["id"],
                        street_id=st["id"],
                        community_id=com["id"],
                        boundary=None,
                        lat=float(pt[1]),
                        lon=float(pt[0]),
                        households=households,
                        population=int(households * rng.uniform(2.4, 3.0)),
                    )
                    lats.append(gr["lat"])
                    lons.append(gr["lon"])
                    grid_rows.append((gr, d))
                com["lat"], com["lon"] = float(np.mean(lats)), float(np.mean(lons))
    df = pd.DataFrame(areas)
    for col in ("population", "households"):
        df[col] = df[col].fillna(0).astype(int)
    for col in ("parent_id", "district_id", "street_id", "community_id"):
        df[col] = df[col].astype("Int64")
    # Sum population up the chain.
    grids = df[df.level == "grid"]
    for level, key in (
        ("community", "community_id"),
        ("street", "street_id"),
        ("district", "district_id"),
    ):
        sums = grids.groupby(key)[["population", "households"]].sum()
        mask = df.level == level
        df.loc[mask, "population"] = (
            df.loc[mask, "id"].map(sums["population"]).fillna(0).astype(int)
        )
        df.loc[mask, "households"] = (
            df.loc[mask, "id"].map(sums["households"]).fillna(0).astype(int)
        )
    df.loc[df.level == "city", ["population", "households"]] = (
        grids[["population", "households"]].sum().values
    )
    for level in ("street", "district"):
        mask = df.level == level
        key = "street_id" if level == "street" else "district_id"
        centres = grids.groupby(key)[["lat", "lon"]].mean()
        df.loc[mask, "lat"] = df.loc[mask, "id"].map(centres["lat"])
        df.loc[mask, "lon"] = df.loc[mask, "id"].map(centres["lon"])
    cols_ = [
        "id",
        "code",
        "name",
        "level",
        "parent_id",
        "district_id",
        "street_id",
        "community_id",
        "population",
        "households",
        "lat",
        "lon",
        "boundary",
    ]
    bulk_insert(conn, "areas", cols_, _tuples(df[cols_]))

    deps = pd.DataFrame(
        [
            {"id": i + 1, "code": c, "name": zh, "name_en": en, "perf": perf}
            for i, (c, zh, en, perf) in enumerate(DEPARTMENTS)
        ]
    )
    bulk_insert(
        conn,
        "departments",
        ["id", "code", "name", "name_en"],
        _tuples(deps[["id", "code", "name", "name_en"]]),
    )
    dep_id = dict(zip(deps.code, deps.id, strict=True))

    cat_rows, subs, limits = [], [], []
    cid = 1
    for code, zh, en, weight, dispute, lim, dept, sublist, src_w in CATEGORIES:
        parent = cid
        cat_rows.append((cid, code, zh, en, None, dispute, False, dep_id[dept]))
        cid += 1
        sub_total = sum(s[3] for s in sublist)
        for scode, szh, sen, sw, sensitive, sdept in sublist:
            did = dep_id[sdept or dept]
            cat_rows.append((cid, scode, szh, sen, parent, dispute, sensitive, did))
            subs.append(
                {
                    "id": cid,
                    "code": scode,
                    "name": szh,
                    "parent_id": parent,
                    "parent_code": code,
                    "weight": weight * sw / sub_total,
                    "is_dispute": dispute,
                    "sensitive": sensitive,
                    "dept_id": did,
                    "dispatch_h": lim[0],
                    "handle_h": lim[1],
                    "close_h": lim[2],
                    "src_w": np.array(src_w, dtype=float) / sum(src_w),
                }
            )
            for sev, f in SEVERITY_FACTOR.items():
                limits.append((cid, sev, lim[0] * f, lim[1] * f, lim[2] * f))
            cid += 1
    bulk_insert(
        conn,
        "categories",
        [
            "id",
            "code",
            "name",
            "name_en",
            "parent_id",
            "is_dispute",
            "sensitive",
            "default_department_id",
        ],
        cat_rows,
    )
    bulk_insert(
        conn,
        "time_limits",
        ["category_id", "severity", "dispatch_hours", "handle_hours", "close_hours"],
        limits,
    )
    return City(df, deps, pd.DataFrame(subs))


def _tuples(df: pd.DataFrame):
    """Rows of a frame as tuples of plain Python values (NaN → None)."""
    obj = df.astype(object).where(df.notna(), None)
    return [tuple(r) for r in obj.itertuples(index=False, name=None)]


def _ts(values: np.ndarray) -> np.ndarray:
    """datetime64 array → strings in SQLAlchemy's storage format (NaT → None)."""
    values = np.asarray(values, dtype="datetime64[us]")
    text = np.char.replace(np.datetime_as_string(values, unit="us"), "T", " ").astype(object)
    text[np.isnat(values)] = None
    return text


def _names(rng, n: int) -> np.ndarray:
    s = rng.choice(SURNAMES, n)
    g1 = rng.choice(GIVEN, n)
    g2 = np.where(rng.random(n) < 0.6, rng.choice(GIVEN, n), "")
    return np.char.add(np.char.add(s.astype(str), g1.astype(str)), g2.astype(str))


def _phones(rng, n: int) -> np.ndarray:
    prefix = rng.choice(["138", "139", "135", "137", "150", "151", "158", "186", "187", "189"], n)
    body = rng.integers(0, 10**8, n)
    return np.array([f"{p}{b:08d}" for p, b in zip(prefix, body, strict=True)], dtype=object)


def generate_history(
    conn,
    city: City,
    rng,
    now: datetime,
    zone,
    days: int,
    per_day: float,
    progress: Callable[[str], None],
) -> dict:
    """~per_day events a day for `days` days before `now`, each with its whole lifecycle."""
    grids = city.areas[city.areas.level == "grid"].reset_index(drop=True)
    district_ids = city.areas[city.areas.level == "district"].id.to_numpy()
    grid_w = grids.population.to_numpy(dtype=float)
    grid_w /= grid_w.sum()
    subs = city.subcategories
    sub_w = subs.weight.to_numpy()
    sub_w = sub_w / sub_w.sum()
    now_local = now.replace(tzinfo=None) + (to_local_offset(now, zone))
    start_day = (now_local - timedelta(days=days)).date()

    # 1. Counts per local hour, with the daily and weekly rhythm and a little noise.
    times = []
    for k in range(days + 1):
        day = start_day + timedelta(days=k)
        expected = per_day * WEEKDAY_FACTOR[day.weekday()] * rng.lognormal(0, 0.08)
        hourly = rng.poisson(expected * HOUR_PROFILE / HOUR_PROFILE.sum())
        base = datetime(day.year, day.month, day.day)
        for h, n in enumerate(hourly):
            if n:
                secs = rng.uniform(0, 3600, n)
                times.append(
                    np.datetime64(base + timedelta(hours=h))
                    + (secs * 1e6).astype("timedelta64[us]")
                )
    local = np.concatenate(times)
    n = len(local)
    grid_idx = rng.choice(len(grids), n, p=grid_w)
    sub_idx = rng.choice(len(subs), n, p=sub_w)

    # 2. Surges: a storm two districts wide, and a wage dispute at one construction site.
    surge_local, surge_grid, surge_sub = [], [], []
    storm_day = now_local.date() - timedelta(days=21)
    storm_subs = subs.index[subs.code.isin(["0301", "0303", "0304", "0404", "1003"])].to_numpy()
    storm_grids = grids.index[grids.district_id.isin(district_ids[[2, 3]])].to_numpy()
    k = 1400
    surge_local.append(
        np.datetime64(datetime.combine(storm_day, datetime.min.time()))
        + (rng.uniform(4, 40, k) * 3600e6).astype("timedelta64[us]")
    )
    surge_grid.append(rng.choice(storm_grids, k))
    surge_sub.append(rng.choice(storm_subs, k, p=[0.15, 0.25, 0.4, 0.1, 0.1]))
    site = int(rng.choice(grids.index[grids.district_id == district_ids[1]]))
    wage = int(subs.index[subs.code == "0601"][0])
    k = 90
    start = np.datetime64(now_local - timedelta(hours=60))
    surge_local.append(start + (rng.uniform(0, 58, k) * 3600e6).astype("timedelta64[us]"))
    surge_grid.append(np.full(k, site))
    surge_sub.append(np.full(k, wage))
    local = np.concatenate([local, *surge_local])
    grid_idx = np.concatenate([grid_idx, *surge_grid])
    sub_idx = np.concatenate([sub_idx, *surge_sub])
    offset = np.timedelta64(int(to_local_offset(now, zone).total_seconds()), "s")
    reported = local - offset  # local → UTC (the zone's offset at `now`; no DST in the default)
    first = np.datetime64(datetime.combine(start_day, datetime.min.time())) - offset
    keep = (reported <= np.datetime64(now)) & (reported >= first)
    reported, grid_idx, sub_idx = reported[keep], grid_idx[keep], sub_idx[keep]
    order = np.argsort(reported, kind="stable")
    reported, grid_idx, sub_idx = reported[order], grid_idx[order], sub_idx[order]
    n = len(reported)
    progress(f"generating the lifecycle of {n:,} events")

    g = grids.iloc[grid_idx].reset_index(drop=True)
    s = subs.iloc[sub_idx].reset_index(drop=True)
    src_p = np.stack(s.src_w.to_numpy())
    cum = src_p.cumsum(axis=1)
    source_idx = (rng.random((n, 1)) > cum).sum(axis=1).clip(0, len(SOURCES) - 1)
    source = np.array(SOURCES)[source_idx]
    severity = rng.choice([1, 2, 3, 4], n, p=[0.86, 0.11, 0.025, 0.005])
    severity = np.where(s.sensitive.to_numpy(), np.maximum(severity, 3), severity)
    is_dispute = s.is_dispute.to_numpy(dtype=bool)
    # Department: the subcategory's own, sometimes another (misrouting happens).
    dept_ids = city.departments.id.to_numpy()
    perf_of = dict(zip(city.departments.id, city.departments.perf, strict=True))
    dept = np.where(rng.random(n) < 0.92, s.dept_id.to_numpy(), rng.choice(dept_ids, n))
    perf = np.vectorize(perf_of.get)(dept).astype(float)
    # District-level effect: some districts run the loop better than others.
    dist_perf = dict(zip(district_ids, [0.85, 0.95, 1.2, 1.0, 0.9, 1.1, 1.3, 1.05], strict=True))
    perf = perf * np.vectorize(dist_perf.get)(g.district_id.to_numpy())
    sev_f = np.vectorize(SEVERITY_FACTOR.get)(severity)
    lim_d = s.dispatch_h.to_numpy() * sev_f
    lim_h = s.handle_h.to_numpy() * sev_f
    lim_c = s.close_h.to_numpy() * sev_f

    def hours(x):
        return (np.asarray(x) * 3600e6).astype("timedelta64[us]")

    rnd = rng.random
    rejected = rnd(n) < 0.035
    t_acc = reported + hours(
        np.where(source == "grid", rng.uniform(0.01, 0.1, n), rng.lognormal(np.log(0.35), 0.6, n))
    )
    escalate = (rnd(n) < 0.03) & ~rejected
    t_esc = t_acc + hours(rng.uniform(0.1, 1.0, n))
    t_dis = np.where(escalate, t_esc, t_acc) + hours(
        lim_d * rng.lognormal(np.log(0.45 * perf), 0.55)
    )
    t_inp = t_dis + hours(np.minimum(rng.lognormal(np.log(0.4), 0.7, n), lim_h * 0.2))
    t_res = t_dis + hours(lim_h * rng.lognormal(np.log(0.5 * perf**1.8), 0.6))
    # Work starts before it is finished, whatever the draws say.
    t_res = np.maximum(t_res, t_inp + hours(rng.uniform(0.05, 0.5, n)))
    returned = rnd(n) < 0.05 * perf
    t_ret = t_res + hours(rng.uniform(1, 12, n))
    t_inp2 = t_ret + hours(rng.uniform(0.2, 1.0, n))
    t_res2 = t_inp2 + hours(lim_h * rng.uniform(0.05, 0.3, n))
    last_res = np.where(returned, t_res2, t_res)
    t_clo = last_res + hours(np.minimum(rng.lognormal(np.log(4 * perf), 0.8), lim_c * 0.6))
    t_rej = reported + hours(rng.uniform(0.2, 3, n))
    nowv = np.datetime64(now)

    rows = {
        "accepted": (~rejected) & (t_acc <= nowv),
        "rejected": rejected & (t_rej <= nowv),
    }
    rows["escalated"] = rows["accepted"] & escalate & (t_esc <= nowv)
    rows["dispatched"] = rows["accepted"] & (t_dis <= nowv)
    rows["in_progress"] = rows["dispatched"] & (t_inp <= nowv)
    rows["resolved"] = rows["in_progress"] & (t_res <= nowv)
    rows["returned"] = rows["resolved"] & returned & (t_ret <= nowv)
    rows["in_progress2"] = rows["returned"] & (t_inp2 <= nowv)
    rows["resolved2"] = rows["in_progress2"] & (t_res2 <= nowv)
    closable = np.where(returned, rows["resolved2"], rows["resolved"] & ~returned)
    rows["closed"] = closable & (t_clo <= nowv)

    # Current status: the last stage reached.
    status = np.full(n, "reported", dtype=object)
    last_at = reported.copy()
    for name, at, st in (
        ("rejected", t_rej, "rejected"),
        ("accepted", t_acc, "accepted"),
        ("escalated", t_esc, "escalated"),
        ("dispatched", t_dis, "dispatched"),
        ("in_progress", t_inp, "in_progress"),
        ("resolved", t_res, "resolved"),
        ("returned", t_ret, "returned"),
        ("in_progress2", t_inp2, "in_progress"),
        ("resolved2", t_res2, "resolved"),
        ("closed", t_clo, "closed"),
    ):
        m = rows[name]
        status[m] = st
        last_at = np.where(m, at, last_at)
    is_open = ~(rows["closed"] | rows["rejected"])

    # Level of resolution: disputes mostly settled at the grassroots, escalated ones higher.
    lvl_p_dispute = [0.3, 0.35, 0.22, 0.1, 0.03]
    lvl_p_other = [0.15, 0.25, 0.35, 0.2, 0.05]
    lvl_dispute = rng.choice(LEVELS, n, p=lvl_p_dispute)
    lvl_other = rng.choice(LEVELS, n, p=lvl_p_other)
    resolved_level = np.where(is_dispute, lvl_dispute, lvl_other).astype(object)
    resolved_level = np.where(
        escalate & np.isin(resolved_level, ["grid", "community"]), "street", resolved_level
    )
    level = np.where(escalate, "community", "grid").astype(object)
    mediated = is_dispute & (rnd(n) < 0.7)
    mediation = np.where(
        mediated, np.where(rnd(n) < 0.92 / np.sqrt(perf), "success", "failed"), None
    )
    late_close = t_clo > (t_acc + hours(lim_c))
    p_sat = np.clip(0.8 - 0.25 * late_close - 0.1 * (perf - 1), 0.3, 0.95)
    u = rnd(n)
    satisfaction = np.where(
        u < p_sat, "satisfied", np.where(u < p_sat + 0.14, "basically_satisfied", "dissatisfied")
    )
    satisfaction = np.where(rnd(n) < 0.85, satisfaction, None)

    acc = rows["accepted"]
    res_any = rows["resolved"]
    deadline = {
        "dispatch": np.where(acc, t_acc + hours(lim_d), np.datetime64("NaT")),
        "handle": np.where(acc, t_acc + hours(lim_h), np.datetime64("NaT")),
        "close": np.where(acc, t_acc + hours(lim_c), np.datetime64("NaT")),
    }
    nat = np.datetime64("NaT")
    # Reporters: residents leave a name and phone; patrols and sensors do not.
    has_reporter = np.isin(source, ["hotline", "citizen"]) | ((source == "grid") & (rnd(n) < 0.3))
    names = np.where(has_reporter, _names(rng, n), None)
    phones = np.where(has_reporter, _phones(rng, n), None)
    comm_name = city.areas.set_index("id").name
    title = g.community_id.map(comm_name).to_numpy(dtype=object) + s.name.to_numpy(dtype=object)
    grid_code_of = g.code.to_numpy(dtype=object)

    # 重复诉求: an earlier event of the same subcategory in the same grid within 30 days.
    frame = pd.DataFrame({"g": g.id.to_numpy(), "s": s.id.to_numpy(), "t": reported})
    frame = frame.sort_values(["g", "s", "t"], kind="stable")
    prev = frame.groupby(["g", "s"]).t.shift(1)
    frame["rep"] = (frame.t - prev) <= pd.Timedelta(days=30)
    is_repeat = frame.sort_index().rep.fillna(False).to_numpy(dtype=bool)

    overdue = is_open & acc & (deadline["close"] < nowv)
    ids = np.arange(1, n + 1)
    created = _ts(reported)  # as if each row had been written when it happened
    ev = {
        "id": ids,
        "source": source,
        "external_id": np.array([f"D{i:08d}" for i in ids], dtype=object),
        "category_id": s.parent_id.to_numpy(),
        "subcategory_id": s.id.to_numpy(),
        "is_dispute": is_dispute,
        "severity": severity,
        "grid_id": g.id.to_numpy(),
        "community_id": g.community_id.to_numpy().astype(int),
        "street_id": g.street_id.to_numpy().astype(int),
        "district_id": g.district_id.to_numpy().astype(int),
        "lat": g.lat.to_numpy() + rng.normal(0, 0.002, n),
        "lon": g.lon.to_numpy() + rng.normal(0, 0.002, n),
        "title": title,
        "description": np.char.add(grid_code_of.astype(str), " 网格上报").astype(object),
        "reporter_name": _sealed(names),
        "reporter_phone": _sealed(phones),
        "reported_at": _ts(reported),
        "status": status,
        "is_open": is_open,
        "level": level,
        "department_id": np.where(rows["dispatched"], dept, None),
        "accepted_at": _ts(np.where(acc, t_acc, nat)),
        "dispatch_deadline": _ts(deadline["dispatch"]),
        "handle_deadline": _ts(deadline["handle"]),
        "close_deadline": _ts(deadline["close"]),
        "dispatched_at": _ts(np.where(rows["dispatched"], t_dis, nat)),
        "first_resolved_at": _ts(np.where(res_any, t_res, nat)),
        "first_returned_at": _ts(np.where(rows["returned"], t_ret, nat)),
        "closed_at": _ts(np.where(rows["closed"], t_clo, nat)),
        "return_count": rows["returned"].astype(int),
        "escalation_count": rows["escalated"].astype(int),
        "satisfaction": np.where(rows["closed"], satisfaction, None),
        "resolved_level": np.where(res_any, resolved_level, None),
        "mediation_result": np.where(res_any, mediation, None),
        "is_repeat": is_repeat,
        "overdue": overdue,
        "last_transition_at": _ts(last_at),
        "version": np.ones(n, dtype=int),
        "created_at": created,
    }
    progress(f"writing {n:,} events")
    bulk_insert_columns(conn, "events", ev)

    # Transitions in lifecycle order.
    steps = [
        ("reported", None, np.ones(n, dtype=bool), reported, None),
        ("rejected", "reported", rows["rejected"], t_rej, None),
        ("accepted", "reported", rows["accepted"], t_acc, None),
        ("escalated", "accepted", rows["escalated"], t_esc, None),
        (
            "dispatched",
            np.where(escalate, "escalated", "accepted"),
            rows["dispatched"],
            t_dis,
            dept,
        ),
        ("in_progress", "dispatched", rows["in_progress"], t_inp, None),
        ("resolved", "in_progress", rows["resolved"], t_res, None),
        ("returned", "resolved", rows["returned"], t_ret, None),
        ("in_progress", "returned", rows["in_progress2"], t_inp2, None),
        ("resolved", "in_progress", rows["resolved2"], t_res2, None),
        ("closed", "resolved", rows["closed"], t_clo, None),
    ]
    total = 0
    next_id = 1
    progress("writing transitions")
    for to_status, from_status, mask, at, dep in steps:
        idx = np.nonzero(mask)[0]
        if not len(idx):
            continue
        k = len(idx)
        frm = (
            from_status[idx]
            if isinstance(from_status, np.ndarray)
            else np.full(k, from_status, dtype=object)
        )
        actor = (
            np.where(source[idx] == "grid", "网格员", "指挥中心")
            if to_status == "reported"
            else np.full(k, "指挥中心", dtype=object)
        )
        bulk_insert_columns(
            conn,
            "transitions",
            {
                "id": np.arange(next_id, next_id + k),
                "event_id": ids[idx],
                "from_status": frm,
                "to_status": np.full(k, to_status, dtype=object),
                "at": _ts(at[idx]),
                "actor": actor,
                "department_id": dep[idx] if dep is not None else np.full(k, None, dtype=object),
                "created_at": _ts(at[idx]),
            },
        )
        next_id += k
        total += k
    return {"events": n, "transitions": total}


def to_local_offset(at_utc: datetime, zone) -> timedelta:
    return zone.utcoffset(at_utc)


def generate_staff(conn, city: City, rng) -> int:
    """A roster of ~3,500 people across all roles."""
    areas = city.areas
    grids = areas[areas.level == "grid"]
    comms = areas[areas.level == "community"]
    streets = areas[areas.level == "street"]
    districts = areas[areas.level == "district"]
    party_by_district = dict(zip(districts.id, rng.uniform(0.3, 0.65, len(districts)), strict=True))
    people = []
    staffed = grids[rng.random(len(grids)) < 0.93]
    people += [("grid_fulltime", r.id, r.district_id, r.street_id) for r in staffed.itertuples()]
    part = grids.sample(n=min(320, len(grids)), random_state=int(rng.integers(1 << 30)))
    people += [("grid_parttime", r.id, r.district_id, r.street_id) for r in part.itertuples()]
    for role, pool, k in (
        ("social_worker", comms, 260),
        ("mediator", comms, 210),
        ("governance_officer", streets, 64),
        ("it_admin", districts, 16),
    ):
        pick = pool.sample(n=k, replace=len(pool) < k, random_state=int(rng.integers(1 << 30)))
        people += [
            (
                role,
                r.id,
                r.district_id if role != "it_admin" else r.id,
                r.street_id
                if role in ("social_worker", "mediator", "governance_officer")
                else None,
            )
            for r in pick.itertuples()
        ]
    n = len(people)
    names = _names(rng, n)
    phones = _phones(rng, n)
    rows = []
    status = rng.choice(["on_duty", "leave", "off"], n, p=[0.88, 0.07, 0.05])
    shift = rng.choice(["day", "night"], n, p=[0.8, 0.2])
    for i, (role, area_id, district_id, street_id) in enumerate(people):
        party = rng.random() < party_by_district.get(district_id, 0.45)
        certs = []
        if role == "social_worker" and rng.random() < 0.75:
            certs.append("社工证")
        if role == "mediator" and rng.random() < 0.6:
            certs.append("人民调解员证")
        if role.startswith("grid") and rng.random() < 0.2:
            certs.append("网格员培训合格证")
        hired = date(2015, 1, 1) + timedelta(days=int(rng.integers(0, 3900)))
        rows.append(
            (
                i + 1,
                f"S{i + 1:06d}",
                str(names[i]),
                _id_number(rng, hired),
                phones[i],
                role,
                int(area_id),
                int(district_id),
                None if street_id is None or pd.isna(street_id) else int(street_id),
                bool(party),
                ",".join(certs),
                float(round(rng.gamma(4, 8), 1)),
                hired.isoformat(),
                str(status[i]),
                str(shift[i]),
            )
        )
    bulk_insert(
        conn,
        "staff",
        [
            "id",
            "staff_no",
            "name",
            "id_number",
            "phone",
            "role",
            "area_id",
            "district_id",
            "street_id",
            "party_member",
            "certifications",
            "training_hours",
            "hire_date",
            "status",
            "shift",
        ],
        rows,
    )
    return n


def _id_number(rng, hired: date) -> str:
    """A well-formed but fictional 18-digit resident ID number (GB 11643 check digit)."""
    born = date(1965, 1, 1) + timedelta(days=int(rng.integers(0, 365 * 35)))
    body = f"339{int(rng.integers(0, 1000)):03d}{born:%Y%m%d}{int(rng.integers(0, 1000)):03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
    return body + check


def generate_activities(conn, city: City, rng, now: datetime, days: int) -> int:
    """Community activities over the period, more active in some districts than others."""
    comms = city.areas[city.areas.level == "community"]
    district_ids = sorted(comms.district_id.unique())
    zeal = dict(zip(district_ids, rng.uniform(0.5, 1.5, len(district_ids)), strict=True))
    rates = {
        "consultation": 4,
        "moral_lecture": 1.5,
        "legal_education": 2.5,
        "volunteer": 6,
        "model_selection": 0.4,
    }
    titles = {
        "consultation": "居民议事会",
        "moral_lecture": "道德讲堂",
        "legal_education": "普法宣传进社区",
        "volunteer": "志愿服务活动",
        "model_selection": "文明家庭评选",
    }
    rows = []
    start = now.date() - timedelta(days=days)
    aid = 1
    for r in comms.itertuples():
        z = zeal[r.district_id]
        for typ, rate in rates.items():
            for _ in range(rng.poisson(rate * z * days / 90)):
                d = start + timedelta(days=int(rng.integers(0, days + 1)))
                people = int(rng.integers(8, 80))
                hours_ = float(people * rng.uniform(1.5, 4)) if typ == "volunteer" else 0.0
                rows.append(
                    (
                        aid,
                        typ,
                        int(r.id),
                        int(r.district_id),
                        int(r.street_id),
                        d.isoformat(),
                        f"{r.name}{titles[typ]}",
                        people,
                        round(hours_, 1),
                        bool(typ == "consultation" and rng.random() < 0.5 + 0.3 * (z - 0.5)),
                    )
                )
                aid += 1
    bulk_insert(
        conn,
        "activities",
        [
            "id",
            "type",
            "area_id",
            "district_id",
            "street_id",
            "date",
            "title",
            "participants",
            "volunteer_hours",
            "party_led",
        ],
        rows,
    )
    return len(rows)


def seed_demo(
    rt,
    days: int = 90,
    per_day: float = 2900.0,
    seed: int = 20261126,
    progress: Callable[[str], None] = log.info,
    now: datetime | None = None,
) -> dict:
    """Create the demo city in an empty database, then build the summaries and the live state."""
    from dashboard import jobs

    started = time.perf_counter()
    now = now or utcnow()
    rng = np.random.default_rng(seed)
    with rt.sessions() as session:
        if session.execute(select(func.count()).select_from(Area)).scalar():
            raise RuntimeError("the database already holds areas; the demo city needs an empty one")
    with (
        bulk_load(rt.engine) as conn,
        without_indexes(conn, [Event.__table__, Transition.__table__]),
    ):
        progress("building the city: districts, streets, communities, grids, departments")
        city = build_city(conn, rng, rt.settings.city_name)
        progress("generating the staff roster and community activities")
        staff = generate_staff(conn, city, rng)
        activities = generate_activities(conn, city, rng, now, days)
        history = generate_history(conn, city, rng, now, rt.settings.zone, days, per_day, progress)
        reset_sequences(
            conn,
            ["areas", "departments", "categories", "events", "transitions", "staff", "activities"],
        )
    progress("building the summary tables")
    rolled = jobs.rollup(rt, now=now, rebuild=True)
    jobs.sla_sweep(rt, now=now)
    progress("building the live state")
    rt.live.delete_all(scheduler_keys=False)  # the bootstrap lock may be held
    jobs.reconcile(rt, now=now, quiet=True)
    jobs.wall_snapshot(rt, now=now)
    counts = city.areas.level.value_counts().to_dict()
    summary = {
        "districts": counts.get("district", 0),
        "streets": counts.get("street", 0),
        "communities": counts.get("community", 0),
        "grids": counts.get("grid", 0),
        "departments": len(city.departments),
        "staff": staff,
        "activities": activities,
        **history,
        "rollup_rows": rolled["rows"],
        "seconds": round(time.perf_counter() - started, 1),
    }
    progress(f"demo city ready: {summary}")
    return summary


# --- the live simulator ------------------------------------------------------------------
# An open event waits at least this long in a status before the simulator moves it on.
SIM_MIN_WAIT = timedelta(minutes=2)


def simulate_tick(rt, now: datetime | None = None, rng: np.random.Generator | None = None) -> dict:
    """Post new events and move open ones on, through the same ingest code as the API."""
    now = now or utcnow()
    rng = rng or np.random.default_rng()
    rate = rt.settings.simulator_rate
    hour_factor = (
        HOUR_PROFILE[(now + to_local_offset(now, rt.settings.zone)).hour] / HOUR_PROFILE.mean()
    )
    n_new = int(rng.poisson(rate * SIMULATOR_TICK_SECONDS / 60.0 * hour_factor))
    with rt.sessions() as session:
        grid_codes = (
            session.execute(
                select(Area.code)
                .where(Area.level == "grid")
                .order_by(func.random())
                .limit(max(n_new, 1))
            )
            .scalars()
            .all()
        )
        due = session.execute(
            select(Event.source, Event.external_id, Event.status, Event.is_dispute)
            .where(Event.is_open, Event.last_transition_at < now - SIM_MIN_WAIT)
            .order_by(func.random())
            .limit(max(2, math.ceil(n_new * 1.3)))
        ).all()
    created = 0
    if n_new and grid_codes:
        items = [
            _simulated_event(rng, now, grid_codes[i % len(grid_codes)], i) for i in range(n_new)
        ]
        by_source: dict[str, list] = {}
        for it in items:
            by_source.setdefault(it["source"], []).append(it)
        for src, batch in by_source.items():
            results = rt.ingestor.ingest_events(batch, token_source=src, now=now)
            created += sum(r.status == "created" for r in results)
    moved = 0
    for src, ext, status, dispute in due:
        step = _next_step(rng, status, dispute)
        if step is None:
            continue
        try:
            rt.ingestor.transition_event(src, ext, [step], now=now)
            moved += 1
        except Exception as exc:  # noqa: BLE001 - a lost race with a real update is fine
            log.debug("simulator could not move %s/%s: %s", src, ext, exc)
    rt.live.heartbeat("simulator")
    return {"created": created, "moved": moved}


def _simulated_event(rng, now: datetime, grid_code: str, i: int) -> dict:
    weights = np.array([c[3] for c in CATEGORIES], dtype=float)
    cat = CATEGORIES[int(rng.choice(len(CATEGORIES), p=weights / weights.sum()))]
    subs = cat[7]
    sw = np.array([s[3] for s in subs], dtype=float)
    sub = subs[int(rng.choice(len(subs), p=sw / sw.sum()))]
    src_w = np.array(cat[8], dtype=float)
    source = SOURCES[int(rng.choice(len(SOURCES), p=src_w / src_w.sum()))]
    item = {
        "external_id": f"SIM-{int(now.timestamp() * 1000)}-{i}-{int(rng.integers(1 << 30))}",
        "source": source,
        "subcategory": sub[0],
        "severity": int(rng.choice([1, 2, 3], p=[0.88, 0.1, 0.02])),
        "grid_code": grid_code,
        "title": f"{sub[1]}（{grid_code[-5:]}）",
        "description": f"模拟上报：{cat[1]}/{sub[1]}",
        "reported_at": (now - timedelta(seconds=float(rng.uniform(0, 20)))).isoformat() + "Z",
    }
    if source in ("hotline", "citizen"):
        item["reporter_name"] = str(_names(rng, 1)[0])
        item["reporter_phone"] = str(_phones(rng, 1)[0])
    return item


def _next_step(rng, status: str, dispute: bool) -> dict | None:
    u = rng.random()
    if status == "reported":
        return {"status": "rejected" if u < 0.04 else "accepted", "actor": "指挥中心"}
    if status in ("accepted", "escalated"):
        return {"status": "dispatched", "actor": "指挥中心"}
    if status in ("dispatched", "returned"):
        return {"status": "in_progress", "actor": "承办部门"}
    if status == "in_progress":
        step = {"status": "resolved", "actor": "承办部门"}
        if dispute:
            step["mediation_result"] = "success" if u < 0.9 else "failed"
        return step
    if status == "resolved":
        if u < 0.06:
            return {"status": "returned", "actor": "核查员"}
        sat = rng.choice(["satisfied", "basically_satisfied", "dissatisfied"], p=[0.8, 0.14, 0.06])
        return {"status": "closed", "actor": "核查员", "satisfaction": str(sat)}
    return None


def _sealed(values):
    """Reporter data as it is stored: sealed when PII_KEY is set (dashboard.privacy)."""
    if not privacy.sealing():
        return values
    return np.array([privacy.seal(v) if v is not None else None for v in values], dtype=object)
