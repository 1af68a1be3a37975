"""The bench's report: the tables printed at the end of a run, with the ratios, the targets and
pass / fail (`print_parts`), and this database's blocks of docs/PERFORMANCE.md between their
markers (`write_docs`).

Each part has its printer and its doc blocks below; they read what the part modules returned
(None for a part that did not run) and the run's `meta` (machine, versions, database, date,
command), and measure nothing."""

import math
import os
import platform
import sys
from pathlib import Path

from tests.bench.common import CONNECTIONS, DURATION, HOST, ROOT, ROUNDS, WARMUP, BenchError, run_checked
from tests.bench.load import tool_version
from tests.bench.part_http import BARE, ENVELOPED
from tests.bench.part_parqex import parqex_failures, parqex_rows, print_parqex
from tests.bench.part_portal import portal_failures, portal_rows
from tests.bench.part_protocol import PROBE_SECONDS

DOC = ROOT / "docs" / "PERFORMANCE.md"


def print_parts(
    meta: dict,
    http: dict | None,
    access: dict | None,
    protocol: dict | None,
    portal: dict | None = None,
    imports: dict | None = None,
    parqex: dict | None = None,
    keymaps: dict | None = None,
) -> list[str]:
    """Print the figures of the parts that ran; returns the failures (a query count that must be
    flat and is not, a target missed)."""
    failures = []
    if http:
        failures += print_http(http)
    if access:
        print_access(access, meta["database"])
        failures += [f"access model target missed: {what}" for what in access_failures(access)]
    if protocol:
        print_protocol(protocol, meta["database"])
        failures += [f"protocol target missed: {what}" for what in protocol_failures(protocol)]
    if portal:
        print_portal(portal)
        failures += [f"portal target missed: {what}" for what in portal_failures(portal)]
    if imports:
        print_imports(imports, meta["database"])
        failures += [f"imports target missed: {what}" for what in imports_failures(imports)]
    if parqex:
        print_parqex(parqex)
        failures += [f"parqex target missed: {what}" for what in parqex_failures(parqex)]
    if keymaps:
        print()
        print(f"Key maps on {meta['database']} (issue 17)")
        print_measures(keymaps_rows(keymaps))
        failures += [f"key-maps target missed: {what}" for what in keymaps_failures(keymaps)]
    return failures


def write_docs(
    meta: dict,
    http: dict | None,
    access: dict | None,
    protocol: dict | None,
    portal: dict | None = None,
    imports: dict | None = None,
    parqex: dict | None = None,
    keymaps: dict | None = None,
) -> None:
    """Rewrite this database's blocks of docs/PERFORMANCE.md for the parts that ran."""
    if http:
        write_doc("api-overhead", meta["db_key"], figures_block(http["results"], http["seed"], meta, http["pairs"]))
        write_doc("directory", meta["db_key"], directory_block(http["results"], http["seed"], meta, http["pairs"]))
    if access:
        write_doc("access", meta["db_key"], access_block(access, meta))
    if protocol:
        write_doc("protocol", meta["db_key"], protocol_block(protocol, meta))
    if portal and "skipped" not in portal:
        write_doc("portal", meta["db_key"], portal_block(portal, meta))
    if imports:
        write_doc("imports", meta["db_key"], imports_block(imports, meta))
    if parqex:
        write_doc("parqex", meta["db_key"], parqex_block(parqex, meta))
    if keymaps:
        write_doc("keymaps", meta["db_key"], keymaps_block(keymaps, meta))


def parqex_block(parqex: dict, meta: dict) -> str:
    start, end = marks("parqex", meta["db_key"])
    m, failed = meta["machine"], parqex_failures(parqex)
    return "\n".join(
        [
            start,
            f"**{meta['database']}**: measured {meta['date']} by `{meta['command']}` (tests/bench/parqex.py), "
            f"{parqex['controllers']:,} controllers × 3 doors = {parqex['doors']:,} doors.",
            "",
            f"- Machine: {m['nproc']} CPUs ({m['cpu']}), {m['os']}, Python {m['python']}; {meta['versions']}",
            f"- Database: {meta['database_setup']}",
            "",
            "| poll | figure | value |",
            "| --- | --- | ---: |",
            *(f"| {poll} | {what} | {value} |" for poll, what, value in parqex_rows(parqex)),
            "",
            f"**{'All targets met' if not failed else 'TARGETS MISSED: ' + '; '.join(failed)}.** Targets: an "
            "unchanged poll writes at most 1 row in all, for any number of doors: the account's poll time (the "
            "claim is a cache lease; no run or event is saved when nothing changed). Times are from a shared "
            "2-CPU machine with other work running: pessimistic.",
            end,
        ]
    )


# --- formatting -----------------------------------------------------------------------------------
def fmt_ms(value) -> str:
    return "n/a" if value is None else f"{value:.2f} ms"


def verdict(passed: bool | None) -> str:
    return "for information" if passed is None else ("pass" if passed else "FAIL")


def print_measures(rows, *, figure: int = 11, target: int = 11, width: int = 100) -> None:
    """The console table every part prints: measure, figure, target, pass/fail."""
    print(f"{'measure':<{width}} {'figure':>{figure}} {'target':>{target}}  result")
    for what, value, goal, passed in rows:
        label = what if len(what) <= width else what[: width - 1] + "…"
        print(f"{label:<{width}} {value:>{figure}} {goal:>{target}}  {verdict(passed)}")


def table(rows: list[tuple[str, dict]]) -> list[str]:
    lines = ["| endpoint | requests/s | p50 | p99 | requests |", "| --- | ---: | ---: | ---: | ---: |"]
    for label, r in rows:
        lines.append(f"| {label} | {r['rps']:.1f} | {fmt_ms(r['p50'])} | {fmt_ms(r['p99'])} | {r['requests']} |")
    return lines


def ratio_of(results: dict, pair: dict) -> float:
    bare = results[pair["bare"]]["rps"]
    return results[pair["path"]]["rps"] / bare if bare else float("nan")


# Issue 17's read targets: each enveloped endpoint's requests/s over its bare DRF view's, one run.
TARGET_HTTP_RATIOS = {"apiKeys": 0.60, "listAreas": 0.50, "getProperty": 0.60}


def http_rows(http: dict) -> list[tuple[str, str, str, bool]]:
    """(what, figure, target, passed) for the read endpoints' ratios (pairs: api-keys, listAreas,
    getProperty, in tests/bench/part_http.py's order)."""
    results, pairs = http["results"], http["pairs"]
    names = (
        ("apiKeys", "list api-keys (a page of 50) / bare DRF list"),
        ("listAreas", "listAreas (a page of 50) / bare DRF list"),
        ("getProperty", "getProperty / bare DRF get"),
    )
    rows = []
    for (key, what), pair in zip(names, pairs, strict=True):
        ratio, target = ratio_of(results, pair), TARGET_HTTP_RATIOS[key]
        rps = f"{results[pair['path']]['rps']:.1f} / {results[pair['bare']]['rps']:.1f}"
        rows.append((f"{what}, requests/s ({rps})", f"{ratio:.2f}", f"≥ {target:.2f}", ratio >= target))
    return rows


def http_failures(http: dict) -> list[str]:
    return [what.split(",")[0] for what, _, _, passed in http_rows(http) if not passed]


def http_table_lines(http: dict) -> list[str]:
    """The read targets as a markdown table, with the verdict."""
    rows = http_rows(http)
    failed = [what.split(",")[0] for what, _, _, passed in rows if not passed]
    return [
        "| measure | figure | target | result |",
        "|---|---:|---:|---|",
        *(f"| {what} | {figure} | {target} | {verdict(passed)} |" for what, figure, target, passed in rows),
        "",
        f"**{'All read targets met' if not failed else 'TARGETS MISSED: ' + '; '.join(failed)}.**",
    ]


def main_table(sql: str) -> str | None:
    """The table after the statement's own FROM (not a subquery's: parentheses are skipped)."""
    depth = 0
    for index, char in enumerate(sql):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and sql.startswith(" FROM ", index):
            return sql[index + 6 :].split()[0].strip('"')
    return None


def sql_statements(statements: list[str]) -> str:
    """`SELECT table` / `INSERT table` / `COMMIT` per query, in order (transaction control shortened)."""
    names = []
    for sql in statements:
        verb = sql.split()[0].upper()
        if verb in ("SELECT", "DELETE"):
            table = main_table(sql)
            names.append(f"{verb} {table}" if table else verb)
        elif verb in ("INSERT", "UPDATE"):
            names.append(f"{verb} {sql.split()[2 if verb == 'INSERT' else 1].strip(chr(34))}")
        else:
            names.append(verb)
    return ", ".join(f"`{n}`" for n in names)


def sql_tables(statements: list[str]) -> str:
    """`table` per query, in order: what a request reads, at a glance."""
    names = []
    for sql in statements:
        names.append(main_table(sql) or sql.split()[0].strip('"'))
    return ", ".join(f"`{n}`" for n in names)


# --- the run: machine and versions ----------------------------------------------------------------
def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = "load average " + " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "load average unknown"
    return {
        "load": load,
        "nproc": os.cpu_count(),
        "cpu": cpu or platform.processor() or "unknown",
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }


def versions(env: dict) -> str:
    code = (
        "import django, rest_framework, gunicorn; "
        "print(f'Django {django.get_version()}, DRF {rest_framework.VERSION}, gunicorn {gunicorn.__version__}')"
    )
    try:
        return run_checked([sys.executable, "-c", code], env, timeout=30, what="versions").strip()
    except BenchError:
        return "unknown"


def setup_lines(meta: dict) -> list[str]:
    m = meta["machine"]
    return [
        f"- Machine: {m['nproc']} CPUs ({m['cpu']}), {m['os']}, Python {m['python']}; {meta['versions']}; "
        f"{m['load']} (1/5/15 min) before the run: anything else running shares the CPUs",
        f"- Server: gunicorn -w 2 (sync workers) on {HOST}, DEBUG=false, {meta['database_setup']}, "
        "local-memory cache, eager Celery; load generator on the same machine",
        f"- Tool: {meta['tool']}; {WARMUP} s warm-up per endpoint, then {ROUNDS} interleaved slices "
        f"of {max(1, round(DURATION / ROUNDS))} s per endpoint (ABBA order), merged",
    ]


# --- the HTTP part --------------------------------------------------------------------------------
def print_http(http: dict) -> list[str]:
    """Print the HTTP figures; returns the failures (query counts that are not flat)."""
    seed, results, pairs = http["seed"], http["results"], http["pairs"]
    q = seed["queries"]
    d = seed["directory"]
    dq = d["queries"]
    print()
    print(f"Enveloped endpoints vs bare DRF on {seed['database']}  ({tool_version(http['wrk'])})")
    print(f"{'endpoint':<52} {'requests/s':>11} {'p50':>10} {'p99':>10} {'requests':>9} {'sock.err':>8}")
    for pair in pairs:
        for path, label in ((pair["bare"], pair.get("bare_label", pair["bare"])), (pair["path"], pair.get("label"))):
            r = results[path]
            label = f"GET {label or path}"
            print(
                f"{label:<52} {r['rps']:>11.1f} {fmt_ms(r['p50']):>10} {fmt_ms(r['p99']):>10} {r['requests']:>9} "
                f"{r['socket_errors']:>8}"
            )
        print(f"{'':<52} ratio enveloped/bare: {ratio_of(results, pair):.2f}")
    print(
        f"SQL queries per GET {ENVELOPED}: {q['10']} with 10 keys, {q['60']} with 60 keys "
        f"({'flat' if q['10'] == q['60'] else 'NOT FLAT'}); first use of a key: {seed['first_use_queries']}"
    )
    for sql in seed["sql"]["60"]:
        print(f"    {sql[:150]}")
    areas_same = dq["list_10"] == dq["list_10000"] == dq["list_deep"]
    print(
        f"SQL queries per listAreas page of {seed['page_size']}: {dq['list_10']} with 10 areas, "
        f"{dq['list_10000']} with {d['areas']} areas (first page), {dq['list_deep']} deep in the list "
        f"({'identical' if areas_same else 'NOT IDENTICAL'}); a process's first: {dq['list_first_in_process']}; "
        f"getProperty: {dq['get_10']} / {dq['get_10000']} (a process's first: {dq['get_first_in_process']})"
    )
    for sql in seed["sql_directory"]:
        print(f"    {sql[:150]}")
    print(
        f"in-process median: listAreas first page {d['in_process_ms']['list_first']} ms, "
        f"deep page {d['in_process_ms']['list_deep']} ms, getProperty {d['in_process_ms']['get']} ms"
    )
    print()
    print_measures(http_rows(http))
    failures = [f"http target missed: {what}" for what in http_failures(http)]
    if q["10"] != q["60"]:
        failures.append("the query count grows with the number of keys (N+1)")
    if not areas_same or dq["get_10"] != dq["get_10000"]:
        failures.append("the listAreas/getProperty query count changes with the number of areas")
    return failures


def figures_block(results: dict, seed: dict, meta: dict, pairs: list[dict]) -> str:
    """The api-overhead block (GET /api/v1/api-keys vs /bench/bare)."""
    pair = pairs[0]
    start, end = marks("api-overhead", meta["db_key"])
    ratio = ratio_of(results, pair)
    q = seed["queries"]
    flat = "flat" if q["10"] == q["60"] else "NOT FLAT"
    lines = [
        start,
        f"**{meta['database']}**: measured {meta['date']} by `{meta['command']}` (tests/bench/run.py).",
        "",
        *setup_lines(meta),
        f"- Data: {seed['keys']} API keys, one `owner` grant each; both endpoints return {seed['page_size']} of them "
        f"(enveloped body {meta['sizes'][ENVELOPED]} B, bare body {meta['sizes'][BARE]} B)",
        "",
        *table([(f"`GET {BARE}` (bare DRF)", results[BARE]), (f"`GET {ENVELOPED}` (enveloped)", results[ENVELOPED])]),
        "",
        f"**Ratio enveloped / bare: {ratio:.2f}** (the enveloped list serves {ratio:.0%} of the bare view's rate).",
        "",
        f"SQL queries per `GET {ENVELOPED}` (Django test client, `CaptureQueriesContext`): "
        f"{q['10']} with 10 keys, {q['60']} with 60 keys ({flat}); "
        f"{seed['first_use_queries']} on a key's first use in a minute (the `lastUsedAt` write).",
        end,
    ]
    return "\n".join(lines)


def directory_block(results: dict, seed: dict, meta: dict, pairs: list[dict]) -> str:
    """The directory block: listAreas and getProperty with 10,000 areas, each vs its bare view."""
    d = seed["directory"]
    q = d["queries"]
    listing, getting = pairs[1], pairs[2]
    list_ratio, get_ratio = ratio_of(results, listing), ratio_of(results, getting)
    same = q["list_10"] == q["list_10000"] == q["list_deep"]
    start, end = marks("directory", meta["db_key"])
    sizes = meta["sizes"]
    ms = d["in_process_ms"]
    lines = [
        start,
        f"**{meta['database']}**: measured {meta['date']} by `{meta['command']}` (tests/bench/run.py; "
        f"the whole run took {meta['elapsed']:.0f} s, seeding {d['seed_seconds']:.0f} s).",
        "",
        *setup_lines(meta),
        f"- Data: one property with {d['areas']:,} areas ({d['shape']}) and their {d['areas']:,} area groups. "
        f"The first {d['service_areas']} were made with `area_create` ({d['service_ms_per_area']} ms each), the "
        f"other {d['bulk_areas']:,} with `bulk_create` in {d['bulk_seconds']} s (bench-only; tree fields checked)",
        f"- Bodies: listAreas page of {seed['page_size']} {sizes[listing['path']]} B "
        f"(bare {sizes[listing['bare']]} B); getProperty {sizes[getting['path']]} B "
        f"(bare {sizes[getting['bare']]} B)",
        "",
        *table(
            [
                (f"`GET {listing['bare_label']}` (bare DRF, 50 areas)", results[listing["bare"]]),
                (f"`GET {listing['label']}` (listAreas, page of 50)", results[listing["path"]]),
                (f"`GET {getting['bare_label']}` (bare DRF, one property)", results[getting["bare"]]),
                (f"`GET {getting['label']}` (getProperty)", results[getting["path"]]),
            ]
        ),
        "",
        f"**Ratio listAreas / bare: {list_ratio:.2f}; getProperty / bare: {get_ratio:.2f}** "
        f"(they serve {list_ratio:.0%} and {get_ratio:.0%} of their bare view's rate).",
        "",
        f"SQL queries per listAreas page of {seed['page_size']} (Django test client, `CaptureQueriesContext`): "
        f"{q['list_10']} with 10 areas, {q['list_10000']} with {d['areas']:,} areas (first page), "
        f"{q['list_deep']} deep in the list (after {d['deep_offset']:,} areas, by `pageToken`): "
        f"{'identical' if same else 'NOT IDENTICAL'}. They read {sql_tables(seed['sql_directory'])}. "
        f"A process's first listAreas runs {q['list_first_in_process']} (Django looks up the content types "
        f"for `externalRefs` once per process). getProperty: {q['get_10']} queries with 10 areas, "
        f"{q['get_10000']} with {d['areas']:,} (a process's first: {q['get_first_in_process']}).",
        "",
        f"In-process (test client, median of 20 calls, with {d['areas']:,} areas): listAreas first page "
        f"{ms['list_first']:.1f} ms, deep page {ms['list_deep']:.1f} ms, getProperty {ms['get']:.1f} ms.",
        "",
        "Issue 17's read targets, this run:",
        "",
        *http_table_lines({"results": results, "pairs": pairs}),
        end,
    ]
    return "\n".join(lines)


# --- the access model -----------------------------------------------------------------------------
TARGET_CHANGE_MS, TARGET_RATIO, TARGET_REBUILD_S = 1000, 1.5, 60


def access_rows(access: dict) -> list[tuple[str, str, str, bool | None]]:
    """(what, figure, target, passed: True/False, None = for information) for the table."""
    seed, rebuild, measure = access["seed"]["campuses"], access["rebuild"], access["measure"]
    big, small = measure["big"], measure["small"]
    rows = []
    for verb, key in (("added to", "add"), ("removed from", "remove")):
        b, s = big["membership"][key], small["membership"][key]
        ratio = b["median_ms"] / s["median_ms"] if s["median_ms"] else float("nan")
        rows += [
            (
                f"membership change, 10k users: a resident {verb} a group + its event processed "
                f"(median of {big['membership']['runs']}; service {b['service_ms']} ms + processing "
                f"{b['processing_ms']} ms; min {b['min_ms']}, max {b['max_ms']})",
                f"{b['median_ms']:.1f} ms",
                f"≤ {TARGET_CHANGE_MS:,} ms",
                b["median_ms"] <= TARGET_CHANGE_MS,
            ),
            (
                f"the same on the 1k-user campus (min {s['min_ms']}, max {s['max_ms']})",
                f"{s['median_ms']:.1f} ms",
                "",
                None,
            ),
            (f"ratio 10k / 1k ({key})", f"{ratio:.2f}", f"≤ {TARGET_RATIO}", ratio <= TARGET_RATIO),
        ]
    for key in ("add", "remove"):
        qb, qs = big["membership"]["queries"][key], small["membership"]["queries"][key]
        rows.append((f"SQL queries per membership change ({key}), 10k / 1k", f"{qb} / {qs}", "equal", qb == qs))
    for campus, users in ((big, "10k users"), (small, "1k users")):
        st = campus["structural"]
        rows.append(
            (
                f"structural change, {users}: the Clubhouse's Residents entry gains/loses a schedule + its "
                f"event processed ({st['maps_changed']:,} access maps and {st['locks_changed']} locks' access lines "
                f"change; median of {st['runs']})",
                f"{st['median_s']:.2f} s",
                f"≤ {TARGET_STRUCTURAL_S:.0f} s" if campus is big else "",
                st["median_s"] <= TARGET_STRUCTURAL_S if campus is big else None,  # issue 17
            )
        )
    rb, rs, rc = rebuild["big"], rebuild["small"], rebuild["big_current"]
    rows += [
        (
            f"full rebuild, 10k users, from empty derived rows ({rb['lines_versions']:,} access-lines versions, "
            f"{rb['lock_lines']:,} lock lines, {rb['access_maps']:,} access maps with "
            f"{rb['map_entries']:,} entries)",
            f"{rb['seconds']:.1f} s",
            f"≤ {TARGET_REBUILD_S} s",
            rb["seconds"] <= TARGET_REBUILD_S,
        ),
        (
            "peak memory of that rebuild: growth of the process's peak RSS (`ru_maxrss`, fresh process, "
            f"{rb['maxrss_before_mib']:.0f} MiB before)",
            f"{rb['maxrss_growth_mib']:.0f} MiB",
            "",
            None,
        ),
        (
            "full rebuild, 10k users, when already current (reads and compares everything; no change)",
            f"{rc['seconds']:.1f} s",
            "",
            None,
        ),
        (
            f"full rebuild, 1k users, from empty ({rs['access_maps']:,} access maps, {rs['map_entries']:,} entries)",
            f"{rs['seconds']:.2f} s",
            "",
            None,
        ),
        (
            f"seeding (bulk_create): 10k campus {seed['10']['memberships']:,} memberships",
            f"{seed['10']['seconds']:.1f} s",
            "",
            None,
        ),
    ]
    return rows


def access_failures(access: dict) -> list[str]:
    return [what for what, _, _, passed in access_rows(access) if passed is False]


def print_access(access: dict, database: str) -> None:
    rows = access_rows(access)
    print()
    print(f"Access model on {database}: derived access of a 10k-user and a 1k-user campus")
    print_measures(rows)
    print("SQL of one membership change (add) on the 10k campus:")
    for sql in access["measure"]["big"]["membership"]["sql"]["add"]:
        print(f"    {sql[:150]}")


def access_block(access: dict, meta: dict) -> str:
    start, end = marks("access", meta["db_key"])
    seed = access["seed"]["campuses"]
    big, small = seed["10"], seed["1"]
    m = meta["machine"]
    failed = access_failures(access)
    lines = [
        start,
        f"**{meta['database']}**: measured {meta['date']} by `{meta['command']}` (tests/bench/run.py, "
        "tests/bench/access.py).",
        "",
        f"- Machine: {m['nproc']} CPUs ({m['cpu']}), {m['os']}, Python {m['python']}; {meta['versions']}; "
        f"{m['load']} (1/5/15 min) before the run: anything else running shares the CPUs",
        f"- Database: {meta['database_setup']}; in-process, no HTTP; events processed by a direct "
        "`event_process` call in the same process (as a worker runs it)",
        f"- Data: 10k campus: {big['users']:,} users, {big['groups']:,} user groups (+ {big['area_groups']:,} area "
        f"groups), {big['areas']:,} areas, {big['locks']:,} locks, {big['memberships']:,} memberships, "
        f"{big['grants']} grants, {big['blocked']} blocked; 1k campus: {small['users']:,} users, "
        f"{small['groups']} groups (+ {small['area_groups']}), {small['areas']} areas, {small['locks']} locks, "
        f"{small['memberships']:,} memberships, {small['grants']} grants, {small['blocked']} blocked",
        f"- A changed resident's access map holds {access['measure']['big']['membership']['map_entries']:.0f} "
        f"entries on the 10k campus, {access['measure']['small']['membership']['map_entries']:.0f} on the 1k one",
        "",
        "| measure | figure | target | result |",
        "| --- | ---: | ---: | --- |",
        *(
            f"| {what} | {figure} | {target or '–'} | {verdict(passed)} |"
            for what, figure, target, passed in access_rows(access)
        ),
        "",
        f"**{'All targets met' if not failed else 'TARGETS MISSED: ' + '; '.join(failed)}.** The "
        f"{access['measure']['big']['membership']['queries']['add']} queries of one membership change (add), "
        f"in order: {sql_statements(access['measure']['big']['membership']['sql']['add'])}.",
        end,
    ]
    return "\n".join(lines)


# --- the lock and device protocol -----------------------------------------------------------------
TARGET_SYNC_RATIO = 0.60  # issue 17: no-change syncs at ≥ 0.60 of a bare DRF PUT


PROTOCOL_LABELS = {
    "bare-lock": "PUT /bench/bare/locks/{lockId}/sync",
    "syncLock": "PUT /api/v1/locks/{lockId}/sync",
    "bare-device": "PUT /bench/bare/users/{userId}/devices/{id}/sync",
    "syncUserDevice": "PUT /api/v1/users/{userId}/devices/{id}/sync",
}


def _sync_ratio(results: dict, name: str) -> float:
    bare = results[f"bare-{'lock' if name == 'syncLock' else 'device'}"]["rps"]
    return results[name]["rps"] / bare if bare else float("nan")


def protocol_rows(protocol: dict) -> list[tuple[str, str, str, bool | None]]:
    """(what, figure, target, passed) for the table."""
    results, build, setup = protocol["results"], protocol["build"], protocol["setup"]
    delivering, lock_nc = setup["delivering"], setup["lock_no_change"]
    device_nc, device_dl = setup["device_no_change"], setup["device_delivering"]
    lock_ratio, device_ratio = _sync_ratio(results, "syncLock"), _sync_ratio(results, "syncUserDevice")
    only_response = delivering["contexts"] == ["keyhouse/lock-sync-response/v1"]
    probe = protocol.get("probe")
    rows = []
    if probe:
        failed = probe["syncLock"]["failed"] + probe["syncUserDevice"]["failed"]
        rows.append(
            (
                "concurrent no-change syncs answered non-2xx on SQLite "
                f"({PROBE_SECONDS} s of each on {CONNECTIONS} connections, syncLock / "
                f"syncUserDevice; {probe['locked_errors_logged']} `database is locked` errors logged)",
                f"{probe['syncLock']['failed']} of {probe['syncLock']['requests']} / "
                f"{probe['syncUserDevice']['failed']} of {probe['syncUserDevice']['requests']}",
                "none",
                failed == 0,
            )
        )
    return [
        (
            f"no-change syncLock / bare DRF PUT, requests/s ({results['syncLock']['rps']:.1f} / "
            f"{results['bare-lock']['rps']:.1f})",
            f"{lock_ratio:.2f}",
            f"≥ {TARGET_SYNC_RATIO:.2f}",
            lock_ratio >= TARGET_SYNC_RATIO,
        ),
        (
            f"no-change syncUserDevice / bare DRF PUT, requests/s ({results['syncUserDevice']['rps']:.1f} / "
            f"{results['bare-device']['rps']:.1f})",
            f"{device_ratio:.2f}",
            f"≥ {TARGET_SYNC_RATIO:.2f}",
            device_ratio >= TARGET_SYNC_RATIO,
        ),
        (
            f"signatures made by a syncLock that delivers a {delivering['entries']:,}-entry key map "
            f"({delivering['key_map_bytes'] / 1024:.0f} KiB; its own {delivering['worker_signatures']} signature "
            f"made by the worker); seals: {delivering['seals']}",
            f"{delivering['signatures']}",
            "1 (the answer's)",
            delivering["signatures"] == 1 and only_response and delivering["seals"] == 0,
        ),
        (
            "signatures / seals / SQL queries per no-change syncLock (in-process); the same per "
            "no-change syncUserDevice",
            f"{lock_nc['signatures']} / {lock_nc['seals']} / {lock_nc['queries']}; "
            f"{device_nc['signatures']} / {device_nc['seals']} / {device_nc['queries']}",
            "",
            None,
        ),
        (
            f"signatures / seals per syncUserDevice that delivers a phone's access map "
            f"({device_dl['entries']} entries; sealed once per version by the worker, 0 here, or by the "
            f"sync itself when the worker had not built it yet, PROTOCOL.md §7.5)",
            f"{device_dl['signatures']} / {device_dl['seals']}",
            "",
            None,
        ),
        (
            f"rebuild and sign every key map of the 1k-lock campus ({build['locks_signed']:,} maps, "
            f"{build['entries_total']:,} entries: median {build['entries_median']:.0f}, max {build['entries_max']:,}; "
            f"{build['signatures']:,} signatures, {build['sign_seconds_in_build']:.2f} s of it in `crypto.sign`; "
            f"{build['queries']:,} SQL queries; peak RSS +{build['maxrss_growth_mib']:.0f} MiB)",
            f"{build['seconds']:.1f} s",
            "",
            None,
        ),
        (
            f"one Ed25519 signature (`crypto.sign`, 64-byte message; median of {build['sign_us_before']} µs "
            f"before and {build['sign_us_after']} µs after the build)",
            f"{build['sign_us']:.1f} µs",
            "",
            None,
        ),
        ("ratio: the rebuild / one signature", f"{build['ratio']:,.0f}", "", None),
        (
            f"the same build again with nothing changed ({build['locks_checked']:,} maps computed and compared, "
            f"{build['again_signed']} signed)",
            f"{build['again_seconds']:.1f} s",
            "",
            None,
        ),
        (
            f"build after {CONNECTIONS + 1} bench locks and {CONNECTIONS} residents with phones were added "
            f"({setup['incremental_build']['checked']:,} maps computed, {setup['incremental_build']['signed']} signed)",
            f"{setup['incremental_build']['seconds']:.1f} s",
            "",
            None,
        ),
        *revocation_rows(protocol.get("revoke")),
        *rows,
    ]


def revocation_rows(revoke: dict | None) -> list[tuple[str, str, str, bool | None]]:
    """Incremental key maps (issue 17): a resident with a phone removed from a group, in-process:
    the service, its events, the key-map build; what the build computed, signed and queried."""
    rows: list[tuple[str, str, str, bool | None]] = []
    for key in ("pool", "widest") if revoke else ():
        r = revoke[key]
        group = f"'{r['group']}' ({r['locks_naming_group']} of {revoke['locks']:,} locks name it)"
        rows += [
            (
                f"membership removal from {group} → new signed maps stored: service + events + key-map build, "
                f"in-process (median of {r['runs']}; max {r['total_ms_max']:,.0f} ms; build {r['build_ms']:,.0f} ms; "
                f"recorded on the change as signed after {r['signed_after_ms_median']:,.0f} ms)",
                f"{r['total_ms_median']:,.0f} ms",
                "",
                None,
            ),
            (
                f"locks computed / signed per removal from {group}; SQL queries of its build",
                f"{'/'.join(map(str, r['locks_computed']))} / {'/'.join(map(str, r['locks_signed']))}; "
                f"{'/'.join(map(str, r['build_queries']))}",
                "the locks naming it",
                r["locks_computed"] == [r["locks_naming_group"]],
            ),
        ]
    return rows


def protocol_failures(protocol: dict) -> list[str]:
    """The missed targets, named without their parenthesised details."""
    return [what.split(" (", 1)[0] for what, _, _, passed in protocol_rows(protocol) if passed is False]


def print_protocol(protocol: dict, database: str) -> None:
    results = protocol["results"]
    print()
    tool = tool_version(protocol["wrk"], threads=CONNECTIONS)
    print(f"Lock and device protocol on {database}  ({tool}, one connection per lock/phone)")
    print(f"{'endpoint':<52} {'requests/s':>11} {'p50':>10} {'p99':>10} {'requests':>9} {'sock.err':>8}")
    for name, label in PROTOCOL_LABELS.items():
        r = results[name]
        print(
            f"{label:<52} {r['rps']:>11.1f} {fmt_ms(r['p50']):>10} {fmt_ms(r['p99']):>10} {r['requests']:>9} "
            f"{r['socket_errors']:>8}"
        )
    print_measures(protocol_rows(protocol))
    print("SQL of one no-change syncLock (in-process):")
    for sql in protocol["setup"]["lock_no_change"]["sql"]:
        print(f"    {sql[:150]}")


def protocol_block(protocol: dict, meta: dict) -> str:
    start, end = marks("protocol", meta["db_key"])
    results, seed, setup, sizes = protocol["results"], protocol["seed"], protocol["setup"], protocol["sizes"]
    failed = protocol_failures(protocol)
    campus = seed["campus"]
    labels = {
        "bare-lock": "`PUT /bench/bare/locks/{lockId}/sync` (bare DRF)",
        "syncLock": "`PUT /api/v1/locks/{lockId}/sync` (syncLock, no change)",
        "bare-device": "`PUT /bench/bare/users/{userId}/devices/{userDeviceId}/sync` (bare DRF)",
        "syncUserDevice": "`PUT /api/v1/users/{userId}/devices/{userDeviceId}/sync` (syncUserDevice, no change)",
    }
    lines = [
        start,
        f"**{meta['database']}**: measured {meta['date']} by `{meta['command']}` (tests/bench/run.py, "
        "tests/bench/protocol.py).",
        "",
        *setup_lines({**meta, "tool": tool_version(protocol["wrk"], threads=CONNECTIONS)}),
        f"- Load: {CONNECTIONS} connections, each one bench lock (phone) sending its own no-change syncs in "
        f"order, a freshly signed body each (pre-signed by the reference lock / phone just before each slice, "
        f"replayed by {'a wrk Lua script' if protocol['wrk'] else 'the Python load generator'}); request "
        f"{sizes['lock'][0]} B / answer {sizes['lock'][1]} B (syncLock), {sizes['device'][0]} B / "
        f"{sizes['device'][1]} B (syncUserDevice); bare answers {sizes['bare-lock']} B / {sizes['bare-device']} B",
        f"- Data: the 10k-user campus of the access model ({'reused from that part' if campus['reused'] else 'seeded'}"
        f"), {seed['devices']:,} phones (one per user, bulk), 1,000 campus locks + {CONNECTIONS + 1} bench locks "
        f"in {setup['area']}; bench phones of {CONNECTIONS} residents added like the campus's",
        "",
        *table([(labels[name], results[name]) for name in PROTOCOL_LABELS]),
        "",
        "| measure | figure | target | result |",
        "| --- | ---: | ---: | --- |",
        *(
            f"| {what} | {figure} | {target or '–'} | {verdict(passed)} |"
            for what, figure, target, passed in protocol_rows(protocol)
        ),
        "",
        f"**{'All targets met' if not failed else 'TARGETS MISSED: ' + '; '.join(failed)}.** The "
        f"{setup['lock_no_change']['queries']} queries of a no-change syncLock, in order: "
        f"{sql_statements(setup['lock_no_change']['sql'])}; of a no-change syncUserDevice: "
        f"{sql_statements(setup['device_no_change']['sql'])}.",
        end,
    ]
    return "\n".join(lines)


def print_portal(portal: dict) -> None:
    print()
    if "skipped" in portal:
        print(f"Portal rate limit: SKIPPED ({portal['skipped']})")
        return
    print(f"Portal rate limit ({portal['redis']}, gunicorn -w {portal['workers']})")
    print_measures(portal_rows(portal), figure=20, target=22)


def portal_block(portal: dict, meta: dict) -> str:
    start, end = marks("portal", meta["db_key"])
    failed = portal_failures(portal)
    lines = [
        start,
        f"**{meta['database']}**, {portal['redis']}: measured {meta['date']} by `{meta['command']}` "
        f"(tests/bench/part_portal.py), gunicorn -w {portal['workers']} on loopback, the load generator "
        "on the same machine.",
        "",
        "| measure | figure | target | result |",
        "| --- | ---: | ---: | --- |",
        *(
            f"| {what} | {figure} | {target} | {verdict(passed)} |"
            for what, figure, target, passed in portal_rows(portal)
        ),
        "",
        f"**{'All targets met' if not failed else 'TARGETS MISSED: ' + '; '.join(failed)}.**",
        end,
    ]
    return "\n".join(lines)


# --- docs/PERFORMANCE.md --------------------------------------------------------------------------
# --- bulk import and export -----------------------------------------------------------------------
TARGET_IMPORT_ROWS_S = 1000
TARGET_REIMPORT_RATIO = 1 / 3
TARGET_MEMORY_RATIO = 1.5


def _rate(rows: int, seconds: float) -> float:
    return rows / seconds if seconds else float("nan")


def imports_rows(imports: dict) -> list[tuple[str, str, str, bool | None]]:
    """(what, figure, target, passed: True/False, None = for information) for the table."""
    run, sizes = imports["run"], imports["sizes"]
    first, again, n = run["first"], run["again"], run["rows"]
    small, big = imports["memory"]["small"], imports["memory"]["big"]
    exp_small, exp_big = imports["export"]["small"], imports["export"]["big"]
    batches = max(1, -(-n // 200))
    unchanged = again["summary"] == {"create": 0, "update": 0, "unchanged": n, "remove": 0}
    reimport_s = again["validate_s"] + again["apply_s"]
    mem_ratio = big["peak_mib"] / small["peak_mib"] if small["peak_mib"] else float("nan")
    exp_ratio = exp_big["peak_mib"] / exp_small["peak_mib"] if exp_small["peak_mib"] else float("nan")
    return [
        (
            f"validate a {n:,}-row users file (units, groups, memberships): parse + plan + store the diff "
            f"({first['validate_s']:.2f} s)",
            f"{_rate(n, first['validate_s']):,.0f} rows/s",
            f"≥ {TARGET_IMPORT_ROWS_S:,} rows/s",
            _rate(n, first["validate_s"]) >= TARGET_IMPORT_ROWS_S,
        ),
        (
            f"apply it: plan checked again + every row through the services ({first['apply_s']:.2f} s, "
            f"{first['events']:,} events)",
            f"{_rate(n, first['apply_s']):,.0f} rows/s",
            f"≥ {TARGET_IMPORT_ROWS_S:,} rows/s",
            _rate(n, first["apply_s"]) >= TARGET_IMPORT_ROWS_S,
        ),
        (
            "end to end: validate + apply",
            f"{_rate(n, first['validate_s'] + first['apply_s']):,.0f} rows/s",
            f"≥ {TARGET_IMPORT_ROWS_S:,} rows/s",
            _rate(n, first["validate_s"] + first["apply_s"]) >= TARGET_IMPORT_ROWS_S,
        ),
        (
            f"SQL queries of the apply ({first['apply_queries']:,} for {batches} batches of 200 operations)",
            f"{first['apply_queries'] / batches:.1f} / batch",
            "flat",
            None,
        ),
        (
            "the worker then processes the apply's events (derived access: one refresh per batch)",
            f"{first['settle_s']:.2f} s",
            "",
            None,
        ),
        (
            f"the same file again changes nothing ({again['summary']}; {again['events']} event: the run's own)",
            "nothing" if unchanged and again["events"] <= 1 else "CHANGES",
            "nothing",
            unchanged and again["events"] <= 1,
        ),
        (
            f"re-import: its apply (the plan checked again, nothing written: {again['apply_s']:.2f} s) "
            "/ the first apply",
            f"{again['apply_s'] / first['apply_s']:.2f}",
            f"≤ {TARGET_REIMPORT_RATIO:.2f}",
            again["apply_s"] / first["apply_s"] <= TARGET_REIMPORT_RATIO,
        ),
        (
            f"re-import with its validation (validate {again['validate_s']:.2f} s + apply {again['apply_s']:.2f} s) "
            "/ the first apply",
            f"{reimport_s / first['apply_s']:.2f}",
            "",
            None,
        ),
        (
            f"peak memory (process RSS) validating + applying {sizes['big']:,} rows vs {sizes['rows']:,} "
            f"({big['peak_mib']:.0f} vs {small['peak_mib']:.0f} MiB; growth during the import "
            f"{big['peak_growth_mib']:.0f} vs {small['peak_growth_mib']:.0f} MiB)",
            f"{mem_ratio:.2f}×",
            f"≤ {TARGET_MEMORY_RATIO}×",
            mem_ratio <= TARGET_MEMORY_RATIO,
        ),
        (
            f"export {sizes['export']:,} people (users CSV, streamed: {exp_big['seconds']:.1f} s, "
            f"{exp_big['bytes'] / 1e6:.1f} MB)",
            f"{exp_big['rows_per_s']:,} rows/s",
            "",
            None,
        ),
        (
            f"peak memory exporting {sizes['export']:,} vs {sizes['rows']:,} people ({exp_big['peak_mib']:.0f} "
            f"vs {exp_small['peak_mib']:.0f} MiB; growth {exp_big['peak_growth_mib']:.0f} vs "
            f"{exp_small['peak_growth_mib']:.0f} MiB)",
            f"{exp_ratio:.2f}×",
            f"≤ {TARGET_MEMORY_RATIO}× (flat)",
            exp_ratio <= TARGET_MEMORY_RATIO and exp_big["streamed"],
        ),
    ]


def imports_failures(imports: dict) -> list[str]:
    return [what for what, _, _, passed in imports_rows(imports) if passed is False]


def print_imports(imports: dict, database: str) -> None:
    print()
    print(f"Bulk import and export on {database}")
    print_measures(imports_rows(imports), figure=15, target=15)


def imports_block(imports: dict, meta: dict) -> str:
    start, end = marks("imports", meta["db_key"])
    m = meta["machine"]
    failed = imports_failures(imports)
    seed = imports["seed"]
    lines = [
        start,
        f"**{meta['database']}**: measured {meta['date']} by `{meta['command']}` (tests/bench/run.py, "
        "tests/bench/imports.py).",
        "",
        f"- Machine: {m['nproc']} CPUs ({m['cpu']}), {m['os']}, Python {m['python']}; {meta['versions']}; "
        f"{m['load']} (1/5/15 min) before the run: anything else running shares the CPUs",
        f"- Database: {meta['database_setup']}; in-process (the services a worker's task calls), one fresh "
        "process per measurement; events processed afterwards by direct `event_process` calls",
        f"- Data: a property of {seed['areas']:,} areas (10 buildings × 10 floors × 10 units) and 4 groups; "
        "each row a new person with externalId, names, phone, a unit and 0–2 groups",
        "",
        "| measure | figure | target | result |",
        "| --- | ---: | ---: | --- |",
        *(
            f"| {what} | {figure} | {target or '–'} | {verdict(passed)} |"
            for what, figure, target, passed in imports_rows(imports)
        ),
        "",
        f"**{'All targets met' if not failed else 'TARGETS MISSED: ' + '; '.join(failed)}.**",
        end,
    ]
    return "\n".join(lines)


# --- key maps (issue 17) ---------------------------------------------------------------------------
TARGET_REVOKE_P50_MS, TARGET_REVOKE_P99_MS = 500, 1000
TARGET_BUILD_ALL_S = 8.0
TARGET_STRUCTURAL_S = 2.0  # the access part's structural change on the 10k campus
TARGET_SCALE_REBUILD_S, TARGET_SCALE_RSS_MIB, TARGET_SCALE_RATIO = 120, 1024, 1.5  # at 100k people


def scale_rows(scale: dict | None) -> list[tuple[str, str, str, bool | None]]:
    """The scaled campus: its targets hold at 100k people (scale 100); smaller, for information."""
    if not scale:
        return []
    n, c, d = scale["scale"], scale["counts"], scale["derived"]
    full = n >= 100
    size = f"{c['users']:,} people, {c['groups']:,} groups, {c['areas']:,} areas, {c['locks']:,} locks" + (
        "" if full else f"; the issue's size is 100k: this run used BENCH_KEYMAP_SCALE={n}"
    )
    rows = [
        (
            f"full rebuild of derived access from empty ({size}; {d['access_maps']:,} access maps with "
            f"{d['map_entries']:,} entries, {d['lock_lines']:,} lock lines)",
            f"{scale['rebuild_seconds']:.1f} s",
            f"≤ {TARGET_SCALE_REBUILD_S} s at 100k",
            scale["rebuild_seconds"] <= TARGET_SCALE_REBUILD_S if full else None,
        ),
        (
            "peak memory of that rebuild (growth of the fresh process's peak RSS)",
            f"{scale['rebuild_maxrss_growth_mib']:,.0f} MiB",
            "≤ 1 GiB at 100k",
            scale["rebuild_maxrss_growth_mib"] <= TARGET_SCALE_RSS_MIB if full else None,
        ),
    ]
    changes = scale.get("changes")
    if changes:
        for key in ("add", "remove"):
            a, b = changes["scaled"][key]["median_ms"], changes["big"][key]["median_ms"]
            rows.append(
                (
                    f"membership change ({key}) on the {n}k campus / the same on the 10k campus (medians of "
                    f"{changes['big']['runs']}, interleaved: {a:.1f} / {b:.1f} ms; queries "
                    f"{changes['scaled']['queries'][key]} / {changes['big']['queries'][key]})",
                    f"{a / b:.2f}",
                    f"≤ {TARGET_SCALE_RATIO}",
                    a / b <= TARGET_SCALE_RATIO,
                )
            )
    return rows


def keymaps_rows(keymaps: dict) -> list[tuple[str, str, str, bool | None]]:
    build = keymaps["build"]
    rows: list[tuple[str, str, str, bool | None]] = [
        (
            f"rebuild and sign every key map of the 10k campus in one process ({build['locks_signed']:,} maps, "
            f"{build['entries_total']:,} entries; {build['sign_seconds_in_build']:.2f} s of it in `crypto.sign`; "
            f"peak RSS +{build['maxrss_growth_mib']:.0f} MiB)",
            f"{build['seconds']:.1f} s",
            "",
            None,
        ),
        (
            "the same build with nothing changed (every map computed and compared, none signed)",
            f"{build['again_seconds']:.1f} s",
            "",
            None,
        ),
    ]
    if "skipped" in keymaps:
        return rows + [(f"live-worker rows skipped: {keymaps['skipped']}", "–", "", None)]
    one, two = keymaps["workers"]["1"], keymaps["workers"]["2"]
    # SQLite admits one writer at a time (every transaction begins IMMEDIATE), so parts cannot
    # overlap and a second worker cannot help: there the target is the fastest build-all.
    sqlite = keymaps.get("sqlite", False)
    for n, w in (("one", one), ("two", two)):
        rows.append(
            (
                f"build-all shared by {n} live Celery worker{'s' * (n == 'two')} ({w['parts']} parts of "
                f"≤ 100 locks, `key_maps_build_part`; {w['locks_signed']:,} maps signed anew; commit → last part "
                f"stored; parts {min(w['part_ms']):,}–{max(w['part_ms']):,} ms)",
                f"{w['seconds']:.1f} s",
                f"≤ {TARGET_BUILD_ALL_S:.0f} s" if n == "two" and not sqlite else "",
                w["seconds"] <= TARGET_BUILD_ALL_S if n == "two" and not sqlite else None,
            )
        )
    if sqlite:
        fastest = min(build["seconds"], one["seconds"], two["seconds"])
        rows.append(
            (
                "build-all on SQLite, the fastest of one process, one worker and two workers (SQLite admits "
                "one writer at a time: parts cannot overlap)",
                f"{fastest:.1f} s",
                f"≤ {TARGET_BUILD_ALL_S:.0f} s",
                fastest <= TARGET_BUILD_ALL_S,
            )
        )
    rows.append(
        (
            "two workers finish the build-all faster than one"
            + (" (for information on SQLite: one writer at a time)" if sqlite else ""),
            f"{two['seconds'] / one['seconds']:.2f}×",
            "< 1" if not sqlite else "",
            two["seconds"] < one["seconds"] if not sqlite else None,
        )
    )
    revoke = keymaps["revoke"]
    r = revoke["all"]
    rows += [
        (
            f"membership removal → every affected lock's new signed key map stored, through a live worker "
            f"(`signed_after_ms` on the change, {r['runs']} removals: Pool pass (1 lock) and building group (7 "
            f"locks) alternately; p50 Pool pass {revoke['pool']['p50_ms']:,.0f} ms, building "
            f"{revoke['building']['p50_ms']:,.0f} ms), p50",
            f"{r['p50_ms']:,.0f} ms",
            f"≤ {TARGET_REVOKE_P50_MS:,} ms",
            r["p50_ms"] <= TARGET_REVOKE_P50_MS,
        ),
        (
            f"the same, p99 (the {math.ceil(0.99 * r['runs'])}th of {r['runs']}, here the maximum)",
            f"{r['p99_ms']:,.0f} ms",
            f"≤ {TARGET_REVOKE_P99_MS:,} ms",
            r["p99_ms"] <= TARGET_REVOKE_P99_MS,
        ),
    ]
    return rows + scale_rows(keymaps.get("scale"))


def keymaps_failures(keymaps: dict) -> list[str]:
    return [what.split(" (", 1)[0] for what, _, _, passed in keymaps_rows(keymaps) if passed is False]


def keymaps_block(keymaps: dict, meta: dict) -> str:
    start, end = marks("keymaps", meta["db_key"])
    m, failed, seed = meta["machine"], keymaps_failures(keymaps), keymaps["seed"]
    redis = "BENCH_REDIS_URL" if os.environ.get("BENCH_REDIS_URL") else "a private redis-server"
    return "\n".join(
        [
            start,
            f"**{meta['database']}**: measured {meta['date']} by `{meta['command']}` (tests/bench/run.py, "
            "tests/bench/keymaps.py).",
            "",
            f"- Machine: {m['nproc']} CPUs ({m['cpu']}), {m['os']}, Python {m['python']}; {meta['versions']}; "
            f"{m['load']} (1/5/15 min) before the run: anything else running shares the CPUs",
            f"- Database: {meta['database_setup']}; Redis: {redis}; "
            "live workers: `celery -A config worker --pool=solo` on every queue, started by the steps",
            f"- Data: the 10k-user campus (1,000 locks), {seed['devices']:,} phones (one per user)",
            "",
            "| measure | figure | target | result |",
            "| --- | ---: | ---: | --- |",
            *(
                f"| {what} | {figure} | {target or '–'} | {verdict(passed)} |"
                for what, figure, target, passed in keymaps_rows(keymaps)
            ),
            "",
            f"**{'All targets met' if not failed else 'TARGETS MISSED: ' + '; '.join(failed)}.**",
            end,
        ]
    )


def marks(section: str, db_key: str) -> tuple[str, str]:
    return f"<!-- bench:{section}:{db_key}:start -->", f"<!-- bench:{section}:{db_key}:end -->"


# Before PostgreSQL runs, the api-overhead block had one marker pair (always SQLite).
LEGACY_MARKS = {("api-overhead", "sqlite"): ("<!-- bench:api-overhead:start -->", "<!-- bench:api-overhead:end -->")}


DOC_HEAD = """# Performance

Figures measured on this project's machines, each with how to re-run it. Numbers from a shared
2-CPU machine with the load generator on the same box are for comparing like with like in
one run (a ratio), not absolute capacity.
"""


DOC_SECTIONS = {
    "api-overhead": """
## API overhead: enveloped list vs bare DRF

What one API request costs on top of plain Django REST framework, on the same stack and in the
same run: `GET /api/v1/api-keys` against `GET /bench/bare`, a plain `APIView` returning the same
50 `ApiKey` rows through a trivial `ModelSerializer` (`tests/bench/baseline.py`). Re-run:
`make bench` (SQLite) or `BENCH_DATABASE_URL=postgres://… make bench` (PostgreSQL). Each run
rewrites its database's block below.

{block}
""",
    "directory": """
## Directory: listAreas and getProperty with 10,000 areas

listAreas (a page of 50) and getProperty on a property holding 10,000 areas, each against a
bare DRF view over the same rows (`tests/bench/baseline.py`), in the same run and gunicorn as the
section above. Re-run: `make bench` (SQLite) or `BENCH_DATABASE_URL=postgres://… make bench`
(PostgreSQL). Each run rewrites its database's block below.

{block}
""",
    "access": """
## Access model: derived access on a 10,000-user property

How derived access keeps up on a large property (issue 5, "Performance"): one membership change
until every affected derived row is current, the same on a property a tenth the size (the
cost must not grow with the property), a structural change, and a full rebuild with its peak
memory (`tests/bench/access.py`). Re-run: `make bench` (SQLite) or
`BENCH_DATABASE_URL=postgres://… make bench` (PostgreSQL); `BENCH_PARTS=access` runs only this
part. Each run rewrites its database's block below.

{block}
""",
    "portal": """
## Resident portal: the rate limit per property

Issue 13, "Benchmark" (`tests/bench/part_portal.py`; alone: `BENCH_PARTS=portal make bench`):
the token bucket per property (100 burst, 80 per second, one Lua script in Redis timed by
Redis `TIME`) shared by 4 gunicorn workers. A paced 300 requests/s on property A must be
accepted at exactly 100 + 80·T (within 1 %, never above), 50 requests/s on property B at the
same time must see no 429, and a 200-request burst on a full bucket must pass 100 plus the
refill (a bucket per process would pass all 200). Needs Redis: BENCH_REDIS_URL, or a
`redis-server` on the PATH that the run starts on loopback; without either the part is
skipped. Each run rewrites its database's block below.

{block}
""",
    "imports": """
## Bulk import and export

Issue 15, "Performance" (`tests/bench/imports.py`; alone: `BENCH_PARTS=imports make bench`):
a 10,000-person users file with units, groups and memberships validated and applied (rows/s
each, target ≥ 1,000), the same file imported again (changes nothing, ≤ 1/3 of the first
apply), the peak memory of validating and applying 50,000 rows against 10,000 (within 1.5×),
and a 100,000-row export streamed against a 10,000-row one (flat). Each run rewrites its
database's block below.

{block}
""",
    "parqex": """
## ParqEx poll: 1,000 controllers × 3 doors

Issue 14 (`tests/bench/parqex.py`; alone: `BENCH_PARTS=parqex make bench`, smaller:
`BENCH_PARQEX_CONTROLLERS=20`): the real ParqEx client and poll against the emulator served
over loopback in the same process, a first poll (every door becomes a lock with its door row,
link and health) and a second with nothing changed, with their SQL statements and writes per
table. Each run rewrites its database's block below.

{block}
""",
    "keymaps": """
## Key maps: revocation through a live worker, build-all shared by workers

Issue 17 (`tests/bench/keymaps.py`; alone: `BENCH_PARTS=keymaps make bench`): on the 10k campus
with a phone per user, the time from a membership removal's commit to every affected lock's new
signed key map stored, through a live Celery worker (target p50 ≤ 0.5 s, p99 ≤ 1 s), and the
build-all of its 1,000 maps in one process and shared by one and by two workers (target ≤ 8 s).
Each run rewrites its database's block below.

{block}
""",
    "protocol": """
## Lock and device protocol: syncs, key maps and signatures

Issue 6, "Performance" (`tests/bench/protocol.py`; alone: `BENCH_PARTS=protocol make bench`):
a no-change `syncLock` and `syncUserDevice` under gunicorn against bare DRF views (target ≥ 0.60
of their throughput), the signatures made by a sync that delivers a key map of at least 1,000
entries (target: only the answer's one), and the time to rebuild and sign every key map of the
1,000-lock campus against one Ed25519 signature. Each run rewrites its database's block below.

{block}
""",
}


def write_doc(section: str, db_key: str, block: str) -> None:
    """Replace this section's block for this database; else add it after a sibling block
    (another database's), else append the whole section."""
    text = DOC.read_text() if DOC.exists() else DOC_HEAD
    start, end = marks(section, db_key)
    candidates = [(start, end)]
    if (section, db_key) in LEGACY_MARKS:
        candidates.append(LEGACY_MARKS[(section, db_key)])
    for first, last in candidates:
        if first in text and last in text:
            head, rest = text.split(first, 1)
            _, tail_text = rest.split(last, 1)
            text = head + block + tail_text
            break
    else:
        siblings = [last for (sec, _), (_, last) in LEGACY_MARKS.items() if sec == section]
        siblings += [marks(section, other)[1] for other in ("postgresql", "sqlite") if other != db_key]
        sibling = next((last for last in siblings if last in text), None)
        if sibling:
            head, tail_text = text.split(sibling, 1)
            text = head + sibling + "\n\n" + block + tail_text
        else:
            text = text.rstrip("\n") + "\n" + DOC_SECTIONS[section].replace("{block}", block)
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text)
