"""The demo city's history: ~90 days of events with their whole lifecycle, written in bulk."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import numpy as np

from dashboard import repeats
from dashboard.config import Settings
from dashboard.db import bulk_insert_columns
from dashboard.demo import people
from dashboard.demo.catalogue import load
from dashboard.demo.city import City
from dashboard.domain import LEVELS, SOURCES, STEP_FACTS
from dashboard.workcalendar import STEPS

# Tags of the incidents planted in the history for the risk rules (dashboard/risk.py) to find.
PLANTED = {"compound": 1, "caller": 2}


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
    settings: Settings,
    days: int,
    per_day: float,
    progress: Callable[[str], None],
) -> dict:
    """~per_day events a day for `days` days before `now`, each with its whole lifecycle."""
    zone = settings.zone
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
    # Planted, labelled incidents for the risk rules to find (PLANTED): one compound's residents
    # calling about its parking in the last hour, and one resident calling again and again.
    surge_tag = [0, 0]
    compound = int(rng.choice(grids.index[grids.district_id == district_ids[0]]))
    k = 12
    surge_local.append(
        np.datetime64(now_local) - (rng.uniform(4, 52, k) * 60e6).astype("timedelta64[us]")
    )
    surge_grid.append(np.full(k, compound))
    surge_sub.append(np.full(k, int(subs.index[subs.code == "0203"][0])))
    surge_tag.append(PLANTED["compound"])
    caller = int(rng.choice(grids.index[grids.district_id == district_ids[4]]))
    days_back = np.array([9.6, 6.2, 4.1, 2.3, 0.9])
    surge_local.append(np.datetime64(now_local) - (days_back * 86400e6).astype("timedelta64[us]"))
    surge_grid.append(np.full(len(days_back), caller))
    surge_sub.append(np.full(len(days_back), int(subs.index[subs.code == "0501"][0])))
    surge_tag.append(PLANTED["caller"])
    local = np.concatenate([local, *surge_local])
    grid_idx = np.concatenate([grid_idx, *surge_grid])
    sub_idx = np.concatenate([sub_idx, *surge_sub])
    tag = np.concatenate(
        [np.zeros(n, dtype=int)]
        + [np.full(len(x), t) for x, t in zip(surge_local, surge_tag, strict=True)]
    )
    offset = np.timedelta64(int(to_local_offset(now, zone).total_seconds()), "s")
    reported = local - offset  # local → UTC (the zone's offset at `now`; no DST in the default)
    first = np.datetime64(datetime.combine(start_day, datetime.min.time())) - offset
    keep = (reported <= np.datetime64(now)) & (reported >= first)
    reported, grid_idx, sub_idx, tag = reported[keep], grid_idx[keep], sub_idx[keep], tag[keep]
    order = np.argsort(reported, kind="stable")
    reported, grid_idx, sub_idx, tag = (
        reported[order],
        grid_idx[order],
        sub_idx[order],
        tag[order],
    )
    n = len(reported)
    progress(f"generating the lifecycle of {n:,} events")
    # 重复诉求: some residents come back about the same matter (same place, often the same
    # phone) within days: the event copies an earlier one's subcategory and grid.
    again = _earlier_same_kind(sub_idx, reported, rng, share=REPEAT_SHARE)
    again[tag > 0] = -1  # the planted incidents stay where they were planted
    has_again = again >= 0
    grid_idx = np.where(has_again, grid_idx[np.maximum(again, 0)], grid_idx)

    g = grids.iloc[grid_idx].reset_index(drop=True)
    s = subs.iloc[sub_idx].reset_index(drop=True)
    src_p = np.stack(s.src_w.to_numpy())
    cum = src_p.cumsum(axis=1)
    source_idx = (rng.random((n, 1)) > cum).sum(axis=1).clip(0, len(SOURCES) - 1)
    source = np.array(SOURCES)[source_idx]
    # Grid workers patrol by day: what is found at night comes from other sources.
    local_hour = ((reported + offset).astype("datetime64[h]").astype(int)) % 24
    night = (source == "grid") & ((local_hour < 7) | (local_hour >= 20))
    other_p = src_p * (np.array(SOURCES) != "grid")
    other_cum = (other_p / other_p.sum(axis=1, keepdims=True)).cumsum(axis=1)
    other_idx = (rng.random((n, 1)) > other_cum).sum(axis=1).clip(0, len(SOURCES) - 1)
    source = np.where(night, np.array(SOURCES)[other_idx], source)
    # Residents call about the planted incidents; the sensors' feed (iot) has been silent for
    # the last 50 minutes (a camera system took over what it would have found).
    source = np.where(tag > 0, "hotline", source)
    silent = (source == "iot") & (reported > np.datetime64(now) - np.timedelta64(50, "m"))
    source = np.where(silent, "video", source).astype(object)
    severity_cum = np.stack(s.severity_p.to_numpy()).cumsum(axis=1)
    severity = 1 + (rng.random((n, 1)) > severity_cum).sum(axis=1).clip(0, 3)
    is_dispute = s.is_dispute.to_numpy(dtype=bool)
    # Department: the subcategory's own, sometimes another (misrouting happens).
    dept_ids = city.departments.id.to_numpy()
    perf_of = dict(zip(city.departments.id, city.departments.perf, strict=True))
    dept = np.where(rng.random(n) < 0.92, s.dept_id.to_numpy(), rng.choice(dept_ids, n))
    perf = np.vectorize(perf_of.get)(dept).astype(float)
    # District-level effect: some districts run the loop better than others.
    dist_perf = dict(zip(district_ids, [d.performance for d in cat.districts], strict=True))
    perf = perf * np.vectorize(dist_perf.get)(g.district_id.to_numpy())
    # The bureau's branch in the event's district handles it, where the bureau has branches.
    unit_of = {
        (int(b), int(d)): int(i)
        for i, b, d in zip(city.units.id, city.units.parent_id, city.units.district_id, strict=True)
    }
    unit = np.array(
        [unit_of.get((int(b), int(d))) for b, d in zip(dept, g.district_id, strict=True)],
        dtype=object,
    )
    handler = np.where([u is None for u in unit], dept, unit)
    # A department falling behind: 水务局 has been slower and slower these last 12 days.
    behind = int(city.departments.id[city.departments.code == "SW"].iloc[0])
    age_days = (np.datetime64(now) - reported) / np.timedelta64(1, "D")
    falling = (dept == behind) & (age_days < 12)
    perf = np.where(falling, perf * (1 + 3 * (1 - age_days / 12)), perf)
    limits = [lims[sv] for lims, sv in zip(s.limits.to_numpy(), severity, strict=True)]
    clock = _Clock(settings.calendar, to_local_offset(now, zone))

    def hours(x):
        return (np.asarray(x) * 3600e6).astype("timedelta64[us]")

    def limit_of(step: str) -> tuple[np.ndarray, np.ndarray]:
        """Each event's limit of a step as (amount on its own clock, clock)."""
        amounts, clocks = np.empty(n), np.empty(n, dtype=object)
        for k, lims in enumerate(limits):
            amounts[k], clocks[k] = clock.length(lims[step])
        return amounts, clocks

    lim = {step: limit_of(step) for step in STEPS}

    def after(start, step: str, factor) -> np.ndarray:
        """`factor` of each event's limit of a step after `start`, on the limit's clock."""
        amounts, clocks = lim[step]
        return clock.after(start, amounts * factor, clocks)

    rnd = rng.random
    rejected = rnd(n) < 0.035
    t_acc = reported + hours(
        np.where(source == "grid", rng.uniform(0.01, 0.1, n), rng.lognormal(np.log(0.35), 0.6, n))
    )
    escalate = (rnd(n) < 0.03) & ~rejected
    t_esc = t_acc + hours(rng.uniform(0.1, 1.0, n))
    t_dis = after(
        np.where(escalate, t_esc, t_acc), "dispatch", rng.lognormal(np.log(0.45 * perf), 0.55)
    )
    t_inp = t_dis + hours(np.minimum(rng.lognormal(np.log(0.4), 0.7, n), 2.0))
    # At most eight times the limit: slow, not never (the working calendar ends somewhere).
    t_res = after(t_dis, "handle", np.minimum(rng.lognormal(np.log(0.5 * perf**1.8), 0.6), 8))
    # Work starts before it is finished, whatever the draws say.
    t_res = np.maximum(t_res, t_inp + hours(rng.uniform(0.05, 0.5, n)))
    returned = rnd(n) < 0.05 * perf
    t_ret = t_res + hours(rng.uniform(1, 12, n))
    t_inp2 = t_ret + hours(rng.uniform(0.2, 1.0, n))
    t_res2 = after(t_inp2, "handle", rng.uniform(0.05, 0.3, n))
    last_res = np.where(returned, t_res2, t_res)
    t_clo = after(last_res, "close", np.minimum(rng.lognormal(np.log(0.08 * perf), 0.8), 0.6))
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
    # 三调联动: people's mediation where disputes are settled near home, administrative and
    # judicial mediation for those that went up.
    near_home = np.isin(resolved_level, ["grid", "community"])
    u = rnd(n)
    mediation_type = np.where(
        near_home,
        np.where(u < 0.85, "people", "administrative"),
        np.where(u < 0.35, "people", np.where(u < 0.75, "administrative", "judicial")),
    )
    mediation_type = np.where(mediated, mediation_type, None)
    # Each deadline from its start event, for the events that reached it.
    starts = {
        "reported": (reported, np.ones(n, dtype=bool)),
        "accepted": (t_acc, rows["accepted"]),
        "dispatched": (t_dis, rows["dispatched"]),
    }
    deadline = {step: _deadlines(clock, limits, step, starts) for step in STEPS}
    # 延期: some dispatched cases are granted more time (half their closing limit again).
    extended = rows["dispatched"] & (rnd(n) < 0.04)
    t_ext = t_dis + (deadline["close"] - t_dis) * 0.5
    extended &= t_ext <= nowv
    new_close = after(deadline["close"], "close", np.full(n, 0.5))
    moved = new_close - deadline["close"]
    old_close = deadline["close"].copy()
    deadline["close"] = np.where(extended, new_close, deadline["close"])
    deadline["handle"] = np.where(extended, deadline["handle"] + moved, deadline["handle"])
    late_close = t_clo > deadline["close"]
    p_sat = np.clip(0.8 - 0.25 * late_close - 0.1 * (perf - 1), 0.3, 0.95)
    u = rnd(n)
    satisfaction = np.where(
        u < p_sat, "satisfied", np.where(u < p_sat + 0.14, "basically_satisfied", "dissatisfied")
    )
    satisfaction = np.where(rnd(n) < 0.85, satisfaction, None)

    acc = rows["accepted"]
    res_any = rows["resolved"]
    nat = np.datetime64("NaT")
    met = {
        "accept": np.where(acc, t_acc, np.where(rows["rejected"], t_rej, nat)),
        "dispatch": np.where(rows["dispatched"], t_dis, nat),
        # The resolution that stands: a returned case has none until it is resolved again.
        "handle": np.where(
            returned, np.where(rows["resolved2"], t_res2, nat), np.where(res_any, t_res, nat)
        ),
        "close": np.where(rows["closed"], t_clo, nat),
    }
    # Reporters: residents leave a name and phone; patrols and sensors do not.
    has_reporter = np.isin(source, ["hotline", "citizen"]) | ((source == "grid") & (rnd(n) < 0.3))
    names = np.where(has_reporter, people.names(rng, n), None)
    phones = np.where(has_reporter, people.phones(rng, n), None)
    caller_tag = tag == PLANTED["caller"]
    names = np.where(caller_tag, people.names(rng, 1)[0], names)
    phones = np.where(caller_tag, people.phones(rng, 1)[0], phones)
    comm_name = city.areas.set_index("id").name
    community = g.community_id.map(comm_name).to_numpy(dtype=object)
    title = community + s.name.to_numpy(dtype=object)
    grid_code_of = g.code.to_numpy(dtype=object)
    # Where: an address for every event (a building of the community), a point for those found
    # on the spot (patrols' phones, cameras and sensors locate themselves).
    building = rng.integers(1, 600, n)
    address = np.array(
        [f"{c}{b}号" for c, b in zip(community, building, strict=True)], dtype=object
    )
    point_given = np.isin(source, ["grid", "video", "iot"])
    lat = g.lat.to_numpy() + rng.normal(0, 0.003, n)
    lon = g.lon.to_numpy() + rng.normal(0, 0.003, n)
    # A repeat comes back about the earlier event's place, and from its reporter when a
    # resident reported both.
    k = np.maximum(again, 0)
    # Residents who reported both times mostly call again from the same phone; the rest come
    # back about the same place.
    by_phone = has_again & has_reporter & has_reporter[k] & (rnd(n) < 0.3)
    phones = np.where(by_phone, phones[k], phones)
    names = np.where(by_phone, names[k], names)
    same_place = has_again & ~by_phone
    address = np.where(same_place, address[k], address)
    compound_tag = tag == PLANTED["compound"]
    address = np.where(compound_tag, community + "18号", address)
    title = np.where(compound_tag, community + "18号小区停车位纠纷", title)
    lat, lon = np.where(same_place, lat[k], lat), np.where(same_place, lon[k], lon)
    place_keys = np.array([repeats.place_key(a) for a in address], dtype=object)
    compound_keys = np.array([repeats.compound_key(a) for a in address], dtype=object)
    reporter_keys = np.array(
        [repeats.reporter_key(p, settings.secret_key) for p in phones], dtype=object
    )
    cells = np.array(
        [
            repeats.cell_of(a, b) if given else None
            for a, b, given in zip(lat, lon, point_given, strict=True)
        ],
        dtype=object,
    )
    progress("finding repeated complaints (重复诉求)")
    columns = zip(
        s.id.to_numpy().tolist(),
        reported.astype("datetime64[us]").astype(object).tolist(),
        place_keys.tolist(),
        reporter_keys.tolist(),
        lat.tolist(),
        lon.tolist(),
        point_given.tolist(),
        strict=True,
    )
    reports = [repeats.Report(i, *c) for i, c in enumerate(columns)]
    flagged, _ = repeats.flag(reports, [], settings.repeat_distance_m)
    is_repeat = np.zeros(n, dtype=bool)
    is_repeat[list(flagged)] = True

    # 督办: the center presses on a third of the cases that ran past their closing deadline.
    overdue_by_now = (
        acc & (deadline["close"] < nowv) & ~(rows["closed"] & (t_clo <= deadline["close"]))
    )
    t_sup = deadline["close"] + hours(rng.uniform(1, 24, n))
    supervised = (
        overdue_by_now & (rnd(n) < 0.35) & (t_sup <= nowv) & ~(rows["closed"] & (t_clo < t_sup))
    )
    t_sup = np.where(supervised, t_sup, nat)

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
        "lat": lat,
        "lon": lon,
        "point_given": point_given,
        "cell": cells,
        "address": address,
        "place_key": place_keys,
        "compound_key": compound_keys,
        "reporter_key": reporter_keys,
        "title": title,
        "description": np.char.add(grid_code_of.astype(str), " 网格上报").astype(object),
        "reporter_name": people.sealed(names),
        "reporter_phone": people.sealed(phones),
        "reported_at": storage_times(reported),
        "status": status,
        "is_open": is_open,
        "level": level,
        "department_id": np.where(rows["dispatched"], dept, None),
        "unit_id": np.where(rows["dispatched"], unit, None),
        "accept_deadline": storage_times(deadline["accept"]),
        "decided_at": storage_times(met["accept"]),
        "accepted_at": storage_times(np.where(acc, t_acc, nat)),
        "dispatch_deadline": storage_times(deadline["dispatch"]),
        "handle_deadline": storage_times(deadline["handle"]),
        "close_deadline": storage_times(deadline["close"]),
        "dispatched_at": storage_times(np.where(rows["dispatched"], t_dis, nat)),
        "first_resolved_at": storage_times(np.where(res_any, t_res, nat)),
        "resolved_at": storage_times(met["handle"]),
        "extended": extended,
        "supervised_at": storage_times(t_sup),
        **{
            due: storage_times(np.fmin(met[step], deadline[step]))
            for step, (_met, _deadline, due) in STEP_FACTS.items()
        },
        "first_returned_at": storage_times(np.where(rows["returned"], t_ret, nat)),
        "closed_at": storage_times(np.where(rows["closed"], t_clo, nat)),
        "return_count": rows["returned"].astype(int),
        "escalation_count": rows["escalated"].astype(int),
        "satisfaction": np.where(rows["closed"], satisfaction, None),
        "resolved_level": np.where(res_any, resolved_level, None),
        "mediation_result": np.where(res_any, mediation, None),
        "mediation_type": np.where(res_any, mediation_type, None),
        "is_repeat": is_repeat,
        "overdue": np.zeros(n, dtype=bool),  # flagged by the SLA sweep after loading
        "last_transition_at": storage_times(last_at),
        "version": np.ones(n, dtype=int),
        "created_at": created,
    }
    progress(f"writing {n:,} events")
    bulk_insert_columns(conn, "events", ev)
    _write_extensions(conn, ids[extended], t_ext[extended], old_close[extended],
                      deadline["close"][extended])  # fmt: skip
    _write_supervisions(conn, ids, supervised, t_sup, dept, rows["closed"], t_clo,
                        ev["district_id"], ev["category_id"])  # fmt: skip

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
            handler,  # the timeline names who handles it
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


REPEAT_SHARE = 0.05  # events that come back about an earlier event's matter


def _earlier_same_kind(sub_idx: np.ndarray, reported: np.ndarray, rng, share: float):
    """For a share of the events, the index of an earlier event of the same subcategory reported
    within the last 20 days (one of the few just before it); −1 for the rest."""
    n = len(sub_idx)
    order = np.lexsort((reported, sub_idx))
    back = rng.integers(1, 4, n)
    pos = np.arange(n) - back
    ok = pos >= 0
    cand = order[np.maximum(pos, 0)]
    ok &= sub_idx[cand] == sub_idx[order]
    ok &= (reported[order] - reported[cand]) <= np.timedelta64(20, "D")
    ok &= reported[cand] < reported[order]
    ok &= rng.random(n) < share
    out = np.full(n, -1)
    out[order[ok]] = cand[ok]
    return out


class _Clock:
    """Working-clock arithmetic over arrays of UTC times (the zone's offset at `now`)."""

    def __init__(self, calendar, offset: timedelta):
        self.calendar = calendar
        self.offset = np.timedelta64(int(offset.total_seconds()), "s")
        self.day_hours = (
            sum(
                (datetime.combine(date.min, b) - datetime.combine(date.min, a)).total_seconds()
                for a, b in calendar.periods
            )
            / 3600
        )  # the working hours of one working day

    def length(self, limit) -> tuple[float, str]:
        """A limit as an amount on the clock it runs on (working days as working hours)."""
        if limit.unit == "work_days":
            return limit.amount * self.day_hours, "work_hours"
        return limit.amount, limit.unit

    def add(self, start: np.ndarray, amount, unit: str) -> np.ndarray:
        local = start.astype("datetime64[us]") + self.offset
        return self.calendar.add_many(local, amount, unit) - self.offset

    def after(self, start: np.ndarray, amounts: np.ndarray, clocks: np.ndarray) -> np.ndarray:
        out = np.empty(len(start), dtype="datetime64[us]")
        for unit in ("hours", "work_hours"):
            m = clocks == unit
            if m.any():
                out[m] = self.add(start[m], amounts[m], unit)
        return out


def _deadlines(clock: _Clock, limits: list[dict], step: str, starts: dict) -> np.ndarray:
    """Each event's deadline of a step, from its limit's start event (NaT before it happened)."""
    n = len(limits)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    groups: dict[tuple, list[int]] = {}
    for k, lims in enumerate(limits):
        lim = lims[step]
        groups.setdefault((lim.amount, lim.unit, lim.start), []).append(k)
    for (amount, unit, start), idx in groups.items():
        at, reached = starts[start]
        idx = np.array(idx)
        idx = idx[reached[idx]]
        if len(idx):
            out[idx] = clock.add(at[idx], amount, unit)
    return out


def _write_extensions(conn, event_ids, requested, old, new) -> None:
    k = len(event_ids)
    if not k:
        return
    bulk_insert_columns(
        conn,
        "extensions",
        {
            "id": np.arange(1, k + 1),
            "event_id": event_ids,
            "requested_at": storage_times(requested),
            "requested_by": np.full(k, "承办部门", dtype=object),
            "reason": np.full(k, "需协调多部门联合处置", dtype=object),
            "old_deadline": storage_times(old),
            "requested_deadline": storage_times(new),
            "state": np.full(k, "approved", dtype=object),
            "decided_at": storage_times(requested + np.timedelta64(1, "h")),
            "decided_by": np.full(k, "指挥中心", dtype=object),
        },
    )


def _write_supervisions(conn, ids, supervised, at, dept, closed, t_clo, district, category):
    idx = np.nonzero(supervised)[0]
    k = len(idx)
    if not k:
        return
    due = at[idx] + np.timedelta64(24, "h")
    replied = closed[idx] & (t_clo[idx] <= due)
    bulk_insert_columns(
        conn,
        "supervisions",
        {
            "id": np.arange(1, k + 1),
            "event_id": ids[idx],
            "department_id": dept[idx],
            "district_id": np.asarray(district)[idx],
            "category_id": np.asarray(category)[idx],
            "at": storage_times(at[idx]),
            "actor": np.full(k, "指挥中心", dtype=object),
            "note": np.full(k, "超期未办结，请于24小时内办结并回复", dtype=object),
            "reply_due_at": storage_times(due),
            "replied_at": storage_times(np.where(replied, t_clo[idx], np.datetime64("NaT"))),
            "reply": np.where(replied, "已办结", None),
            "batch": np.full(k, None, dtype=object),
        },
    )
