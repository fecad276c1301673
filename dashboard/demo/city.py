"""The demo city itself: areas with boundaries, departments, categories and their time limits,
the staff roster and community activities."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from dashboard import privacy
from dashboard.db import bulk_insert
from dashboard.demo import people
from dashboard.demo.catalogue import Catalogue, CategoryDef, load
from dashboard.demo.geometry import block_outline, lattice
from dashboard.domain import SEVERITY_LABELS
from dashboard.roster import id_key
from dashboard.workcalendar import Limit


@dataclass
class City:
    areas: pd.DataFrame  # id, code, name, level, parent_id, district_id, street_id, community_id, …
    departments: pd.DataFrame  # id, code, perf: the bureaus
    subcategories: pd.DataFrame  # id, code, parent_id, weight, is_dispute, limits, dept_id …
    units: pd.DataFrame  # id, code, name, parent_id, district_id: the bureaus' district branches


def build_city(conn, rng: np.random.Generator, city_name: str) -> City:
    """Areas with boundaries, departments, categories and time limits."""
    cat = load()
    cols, rows = 16, 4
    bbox = (117.90, 30.10, 118.70, 30.50)
    P, H, V = lattice(rng, cols, rows, bbox)
    areas = []
    next_id = 1

    def add(**kw):
        nonlocal next_id
        kw["id"] = next_id
        next_id += 1
        areas.append(kw)
        return kw

    city = add(
        code=cat.city_code,
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
    street_names = rng.permutation(len(cat.street_words) // 2)
    s_index = 0
    grid_rows = []
    for d, district in enumerate(cat.districts):
        c0, r0 = (d % 4) * 4, (d // 4) * 2
        dist = add(
            code=f"{cat.city_code}{d + 1:02d}",
            name=district.name,
            level="district",
            parent_id=city["id"],
            district_id=None,
            street_id=None,
            community_id=None,
            boundary=json.dumps(block_outline(P, H, V, c0, c0 + 4, r0, r0 + 2)),
        )
        dist["district_id"] = dist["id"]
        for k in range(8):
            ci, rj = c0 + k % 4, r0 + k // 4
            w = cat.street_words[2 * street_names[s_index % len(street_names)] :][:2]
            s_index += 1
            st = add(
                code=f"{dist['code']}{k + 1:03d}",
                name="".join(w) + "街道",
                level="street",
                parent_id=dist["id"],
                district_id=dist["id"],
                street_id=None,
                community_id=None,
                boundary=json.dumps(block_outline(P, H, V, ci, ci + 1, rj, rj + 1)),
            )
            st["street_id"] = st["id"]
            corners = np.array([P[ci, rj], P[ci + 1, rj], P[ci + 1, rj + 1], P[ci, rj + 1]])
            n_comm = int(rng.integers(5, 9))
            for c in range(n_comm):
                word = cat.community_words[int(rng.integers(len(cat.community_words)))]
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
                    households = int(rng.integers(300, 501) * (0.8 + 0.2 * district.density))
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
    bulk_insert(conn, "areas", cols_, tuples(df[cols_]))

    deps = pd.DataFrame(
        [
            {
                "id": i + 1,
                "code": d.code,
                "name": d.name,
                "name_en": d.name_en,
                "perf": d.performance,
            }
            for i, d in enumerate(cat.departments)
        ]
    )
    # 承办单位: the branch of a bureau in each district (青云区城管局), below the bureau.
    districts = df[df.level == "district"].sort_values("code")  # in the catalogue's order
    bureau_id = dict(zip(deps.code, deps.id, strict=True))
    units = pd.DataFrame(
        [
            (
                f"{d.code}-{code}",
                f"{name}{d.name}",
                f"{dd.name_en} {d.name_en}",
                bureau_id[d.code],
                did,
            )
            for d in cat.departments
            if d.units
            for code, name, did, dd in zip(
                districts.code, districts.name, districts.id, cat.districts, strict=True
            )
        ],
        columns=["code", "name", "name_en", "parent_id", "district_id"],
    )
    units.insert(0, "id", range(len(deps) + 1, len(deps) + 1 + len(units)))
    bulk_insert(
        conn,
        "departments",
        ["id", "code", "name", "name_en", "parent_id", "district_id"],
        tuples(deps[["id", "code", "name", "name_en"]].assign(parent_id=None, district_id=None))
        + tuples(units),
    )
    dep_id = dict(zip(deps.code, deps.id, strict=True))

    cat_rows, subs, limits = [], [], []
    cid = 1
    for c in cat.categories:
        parent = cid
        cat_rows.append(
            (cid, c.code, c.name, c.name_en, None, c.dispute, False, dep_id[c.department])
        )
        cid += 1
        sub_total = sum(sub.weight for sub in c.subcategories)
        for sub in c.subcategories:
            did = dep_id[sub.department or c.department]
            cat_rows.append(
                (cid, sub.code, sub.name, sub.name_en, parent, c.dispute, sub.sensitive, did)
            )
            subs.append(
                {
                    "id": cid,
                    "code": sub.code,
                    "name": sub.name,
                    "parent_id": parent,
                    "parent_code": c.code,
                    "weight": c.weight * sub.weight / sub_total,
                    "is_dispute": c.dispute,
                    "sensitive": sub.sensitive,
                    "severity_p": np.asarray(sub.severity or cat.severity, dtype=float),
                    "dept_id": did,
                    "src_w": c.sources,
                    "limits": {sev: limits_at(c, sev, cat) for sev in SEVERITY_LABELS},
                }
            )
            for sev in SEVERITY_LABELS:
                for step, limit in limits_at(c, sev, cat).items():
                    limits.append((cid, sev, step, limit.amount, limit.unit, limit.start))
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
        ["category_id", "severity", "step", "amount", "unit", "start"],
        limits,
    )
    return City(df, deps, pd.DataFrame(subs), units)


def limits_at(c: CategoryDef, severity: int, cat: Catalogue) -> dict[str, Limit]:
    """A category's limits at a severity: its own, except the steps the severity's calendar-hour
    limits name (立案 and 派遣 of a grave case), where those are shorter than the category's."""
    out = dict(c.limits)
    for step, limit in cat.severity_limits.get(severity, {}).items():
        own = c.limits[step].hours()
        if own is None or limit.amount < own:
            out[step] = limit
    return out


def tuples(df: pd.DataFrame):
    """Rows of a frame as tuples of plain Python values (NaN → None)."""
    obj = df.astype(object).where(df.notna(), None)
    return [tuple(r) for r in obj.itertuples(index=False, name=None)]


def generate_staff(conn, city: City, rng, secret: str) -> int:
    """A roster of ~3,500 people across all roles (ID numbers and phones sealed as an import
    seals them)."""
    areas = city.areas
    grids = areas[areas.level == "grid"]
    comms = areas[areas.level == "community"]
    streets = areas[areas.level == "street"]
    districts = areas[areas.level == "district"]
    party_by_district = dict(zip(districts.id, rng.uniform(0.3, 0.65, len(districts)), strict=True))
    roster = []
    staffed = grids[rng.random(len(grids)) < 0.93]
    roster += [("grid_fulltime", r.id, r.district_id, r.street_id) for r in staffed.itertuples()]
    part = grids.sample(n=min(320, len(grids)), random_state=int(rng.integers(1 << 30)))
    roster += [("grid_parttime", r.id, r.district_id, r.street_id) for r in part.itertuples()]
    for role, pool, k in (
        ("social_worker", comms, 340),
        ("mediator", comms, 380),
        ("governance_officer", streets, 64),
        ("it_admin", districts, 16),
    ):
        pick = pool.sample(n=k, replace=len(pool) < k, random_state=int(rng.integers(1 << 30)))
        roster += [
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
    n = len(roster)
    names = people.names(rng, n)
    phones = people.phones(rng, n)
    rows = []
    status = rng.choice(["on_duty", "leave", "off"], n, p=[0.88, 0.07, 0.05])
    # Planted for the 力量不足 rule: in one street of 望湖区 most grid workers are away (a flu
    # season, a secondment) while its cases keep coming.
    short = streets[streets.district_id == districts.id.iloc[2]].id.iloc[0]
    street_of = dict(zip(grids.id, grids.street_id, strict=True))
    away = np.array(
        [role.startswith("grid") and street_of.get(area) == short for role, area, _d, _s in roster]
    )
    status = np.where(away & (rng.random(n) < 0.7), "leave", status)
    for i, (role, area_id, district_id, street_id) in enumerate(roster):
        party = rng.random() < party_by_district.get(district_id, 0.45)
        certs = []
        if role == "social_worker" and rng.random() < 0.75:
            certs.append("社工证")
        if role == "mediator" and rng.random() < 0.6:
            certs.append("人民调解员证")
        if role.startswith("grid") and rng.random() < 0.2:
            certs.append("网格员培训合格证")
        hired = date(2015, 1, 1) + timedelta(days=int(rng.integers(0, 3900)))
        id_number = people.id_number(rng, hired)
        rows.append(
            (
                i + 1,
                f"S{i + 1:06d}",
                str(names[i]),
                privacy.seal(id_number),
                id_key(id_number, secret),
                privacy.seal(phones[i]),
                role,
                int(area_id),
                int(district_id),
                None if street_id is None or pd.isna(street_id) else int(street_id),
                bool(party),
                ",".join(certs),
                hired.isoformat(),
                str(status[i]),
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
            "id_key",
            "phone",
            "role",
            "area_id",
            "district_id",
            "street_id",
            "party_member",
            "certifications",
            "hire_date",
            "status",
        ],
        rows,
    )
    return n


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
                participants = int(rng.integers(8, 80))
                hours_ = float(participants * rng.uniform(1.5, 4)) if typ == "volunteer" else 0.0
                rows.append(
                    (
                        aid,
                        typ,
                        int(r.id),
                        int(r.district_id),
                        int(r.street_id),
                        d.isoformat(),
                        f"{r.name}{titles[typ]}",
                        participants,
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
