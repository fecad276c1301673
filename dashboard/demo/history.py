"""The demo city's history: ~90 days of events with their whole lifecycle, written in bulk."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from dashboard.db import bulk_insert_columns
from dashboard.demo import people
from dashboard.demo.catalogue import load
from dashboard.demo.city import City
from dashboard.domain import LEVELS, SOURCES


def storage_times(values: np.ndarray) -> np.ndarray:
    """datetime64 array → strings in SQLAlchemy's storage format (NaT → None)."""
    values = np.asarray(values, dtype="datetime64[us]")
    text = np.char.replace(np.datetime_as_string(values, unit="us"), "T", " ").astype(object)
    text[np.isnat(values)] = None
    return text


def to_local_offset(at_utc: datetime, zone) -> timedelta:
    return zone.utcoffset(at_utc)


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
    cat = load()
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
        expected = per_day * cat.weekday_factor[day.weekday()] * rng.lognormal(0, 0.08)
        hourly = rng.poisson(expected * cat.hour_profile / cat.hour_profile.sum())
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
    dist_perf = dict(zip(district_ids, [d.performance for d in cat.districts], strict=True))
    perf = perf * np.vectorize(dist_perf.get)(g.district_id.to_numpy())
    sev_f = np.vectorize(cat.severity_factor.get)(severity)
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
    names = np.where(has_reporter, people.names(rng, n), None)
    phones = np.where(has_reporter, people.phones(rng, n), None)
    comm_name = city.areas.set_index("id").name
    title = g.community_id.map(comm_name).to_numpy(dtype=object) + s.name.to_numpy(dtype=object)
    grid_code_of = g.code.to_numpy(dtype=object)

    # 重复诉求: an earlier event of the same subcategory in the same grid within 30 days.
    frame = pd.DataFrame({"g": g.id.to_numpy(), "s": s.id.to_numpy(), "t": reported})
    frame = frame.sort_values(["g", "s", "t"], kind="stable")
    prev = frame.groupby(["g", "s"]).t.shift(1)
    frame["rep"] = (frame.t - prev) <= pd.Timedelta(days=30)
    is_repeat = frame.sort_index().rep.fillna(False).to_numpy(dtype=bool)

    ids = np.arange(1, n + 1)
    created = storage_times(reported)  # as if each row had been written when it happened
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
        "reporter_name": people.sealed(names),
        "reporter_phone": people.sealed(phones),
        "reported_at": storage_times(reported),
        "status": status,
        "is_open": is_open,
        "level": level,
        "department_id": np.where(rows["dispatched"], dept, None),
        "accepted_at": storage_times(np.where(acc, t_acc, nat)),
        "dispatch_deadline": storage_times(deadline["dispatch"]),
        "handle_deadline": storage_times(deadline["handle"]),
        "close_deadline": storage_times(deadline["close"]),
        "dispatched_at": storage_times(np.where(rows["dispatched"], t_dis, nat)),
        "first_resolved_at": storage_times(np.where(res_any, t_res, nat)),
        "first_returned_at": storage_times(np.where(rows["returned"], t_ret, nat)),
        "closed_at": storage_times(np.where(rows["closed"], t_clo, nat)),
        "return_count": rows["returned"].astype(int),
        "escalation_count": rows["escalated"].astype(int),
        "satisfaction": np.where(rows["closed"], satisfaction, None),
        "resolved_level": np.where(res_any, resolved_level, None),
        "mediation_result": np.where(res_any, mediation, None),
        "is_repeat": is_repeat,
        "overdue": np.zeros(n, dtype=bool),  # flagged by the SLA sweep after loading
        "last_transition_at": storage_times(last_at),
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
                "at": storage_times(at[idx]),
                "actor": actor,
                "department_id": dep[idx] if dep is not None else np.full(k, None, dtype=object),
                "created_at": storage_times(at[idx]),
            },
        )
        next_id += k
        total += k
    return {"events": n, "transitions": total}
