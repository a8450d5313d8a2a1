#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/report.py RESULTS_DIR: the table of a bench/run, from its raw files.

Prints the table (plain text, also valid Markdown) and writes
RESULTS_DIR/results.json with every figure it used. Medians and p99 are
nearest-rank over the samples of one run; ratios are of medians. It never
passes or fails anything: targets are shown next to the figures.
"""
import csv
import json
import math
import os
import re
import sys

R = sys.argv[1]
out = {}


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return None
    k = max(0, min(len(xs) - 1, math.ceil(p / 100.0 * len(xs)) - 1))
    return xs[k]


def med(xs):
    return pct(xs, 50)


def ms(us):
    return None if us is None else us / 1000.0


def f(x, nd=1):
    if x is None:
        return "n/a"
    return f"{x:.{nd}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def read_csv(name):
    p = os.path.join(R, name)
    if not os.path.exists(p):
        return []
    with open(p) as fh:
        return list(csv.DictReader(fh))


def kv_file(name):
    d = {}
    p = os.path.join(R, name)
    if os.path.exists(p):
        for line in open(p):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                d[k] = v
    return d


def stamp_us(s):
    try:
        a, b = s.strip().split(".")
        return int(a) * 1000000 + int(b.ljust(6, "0")[:6])
    except (ValueError, AttributeError):
        return None


machine = kv_file("machine.txt")
rows = read_csv("setup.csv")
by = {}
for r in rows:
    if not r["iter"].isdigit():
        continue
    by.setdefault(r["label"], []).append(r)


def ok_rows(label):
    return [r for r in by.get(label, []) if r["status"] == "0"]


def walls(label):
    return [int(r["wall_us"]) for r in ok_rows(label)]


def su_split(label):
    login, exit_ = [], []
    for r in ok_rows(label):
        t = stamp_us(r["out"])
        if t is None:
            continue
        s, w = int(r["start_us"]), int(r["wall_us"])
        login.append(t - s)
        exit_.append(s + w - t)
    return login, exit_


def floor_fields():
    d = {}
    for r in ok_rows("floor"):
        for tok in r["out"].split():
            if "=" in tok:
                k, v = tok.split("=", 1)
                if v.lstrip("-").isdigit():
                    d.setdefault(k, []).append(int(v))
    return d


def stat(xs):
    return {"n": len(xs), "p50_ms": ms(med(xs)), "p99_ms": ms(pct(xs, 99)),
            "min_ms": ms(min(xs)) if xs else None, "max_ms": ms(max(xs)) if xs else None}


lines = []
P = lines.append

P(f"cubby benchmark — {machine.get('cubby', '?')}")
P(f"machine: {machine.get('nproc', '?')} CPUs ({machine.get('cpu', '?')}), kernel {machine.get('kernel', '?')}, "
  f"{int(machine.get('memtotal_kib', '0')) // 1024} MiB RAM, {machine.get('os', '?')}; {machine.get('date', '')}")
P(f"load average at start {machine.get('loadavg_start', '?')}, at end {machine.get('loadavg_end', '?')}; "
  f"run took {machine.get('bench_seconds', '?')} s; {machine.get('iters', '')}")
P("")

# ---------------------------------------------------------------- setup
sc_w, sp_w = walls("su_cubby"), walls("su_plain")
sc_login, sc_exit = su_split("su_cubby")
sp_login, sp_exit = su_split("su_plain")
fl = floor_fields()
fl_helper_span = [a + b for a, b in zip(fl.get("root_us", []), fl.get("start_us", []))]
helper_ms = []
p = os.path.join(R, "helper_setup_ms.txt")
if os.path.exists(p):
    # container_start's setup_ms: 0.01 ms steps (whole ms in older builds)
    helper_ms = [float(x) * 1000 for x in open(p).read().split()
                 if re.fullmatch(r"[0-9]+(\.[0-9]+)?", x)]

out["setup"] = {
    "su_cubby_wall": stat(sc_w), "su_plain_wall": stat(sp_w),
    "su_cubby_to_shell": stat(sc_login), "su_plain_to_shell": stat(sp_login),
    "su_cubby_shell_to_exit": stat(sc_exit), "su_plain_shell_to_exit": stat(sp_exit),
    "helper_setup_ms_syslog": stat(helper_ms),
    "floor": {k: stat(v) for k, v in fl.items() if k != "status"},
    "floor_helper_span": stat(fl_helper_span),
}
for peer in ("bwrap", "unshare", "firejail"):
    out["setup"][peer] = stat(walls(peer))

added = None
if sc_w and sp_w:
    added = med(sc_w) - med(sp_w)
added_login = med(sc_login) - med(sp_login) if sc_login and sp_login else None
added_exit = med(sc_exit) - med(sp_exit) if sc_exit and sp_exit else None
fl_total = fl.get("total_us", [])


def row(cells):
    P("| " + " | ".join(cells) + " |")


def target(ok, text):
    if ok is None:
        return f"{text}: n/a"
    return f"{text}: {'met' if ok else 'MISSED'}"


P("## 1-2. Setup cost of one full sandbox (network = nat, overlay home, cgroups), and the floor")
P("")
row(["measure", "n", "p50 ms", "p99 ms", "compared with", "p50 ms", "p99 ms", "ratio (p50)", "target"])
row(["---"] * 9)
r1 = ratio(med(helper_ms), med(fl_helper_span))
row(["cubby-shell setup: main() to shell exec (syslog setup_ms)", str(len(helper_ms)),
     f(ms(med(helper_ms))), f(ms(pct(helper_ms, 99))),
     "floor, same span (root + clone..exec)", f(ms(med(fl_helper_span)), 2), f(ms(pct(fl_helper_span, 99)), 2),
     f(r1, 2) + "x", target(None if r1 is None else r1 <= 1.3, "<= 1.3x")])
r2 = ratio(added, med(fl_total))
row(["everything cubby adds to one login (su_cubby - su_plain wall)", str(min(len(sc_w), len(sp_w))),
     f(ms(added)), "", "floor, all objects + exec + teardown (total)", f(ms(med(fl_total)), 2),
     f(ms(pct(fl_total, 99)), 2), f(r2, 2) + "x", ""])
r3 = ratio(med(sc_w), med(sp_w))
row(["su USER -c 'echo $EPOCHREALTIME' with pam_cubby (wall)", str(len(sc_w)), f(ms(med(sc_w))),
     f(ms(pct(sc_w, 99))), "the same su without pam_cubby", f(ms(med(sp_w))), f(ms(pct(sp_w, 99))),
     f(r3, 2) + "x, +" + f(ms(added)) + " ms",
     target(None if r3 is None else (r3 <= 1.5 and ms(added) <= 15), "<= 1.5x and <= +15 ms")])
row(["  su start to the shell running (login half)", str(len(sc_login)), f(ms(med(sc_login))),
     f(ms(pct(sc_login, 99))), "without pam_cubby", f(ms(med(sp_login))), f(ms(pct(sp_login, 99))),
     "+" + f(ms(added_login)) + " ms", ""])
row(["  shell done to su exited (logout half: teardown)", str(len(sc_exit)), f(ms(med(sc_exit))),
     f(ms(pct(sc_exit, 99))), "without pam_cubby", f(ms(med(sp_exit))), f(ms(pct(sp_exit, 99))),
     "+" + f(ms(added_exit)) + " ms",
     target(None if added_exit is None else ms(added_exit) < 20, "teardown < 20 ms")])
# su typed at a terminal: the sandbox's own pty and the relay
st_w, stp_w = walls("su_cubby_tty"), walls("su_plain_tty")
st_login, _ = su_split("su_cubby_tty")
out["setup"]["su_cubby_tty_wall"] = stat(st_w)
out["setup"]["su_plain_tty_wall"] = stat(stp_w)
out["setup"]["su_cubby_tty_to_shell"] = stat(st_login)
row(["su at a terminal (stdin a pty): the sandbox's own pty + relay (wall)", str(len(st_w)),
     f(ms(med(st_w))), f(ms(pct(st_w, 99))), "su_cubby (stdin /dev/null, no pty)", f(ms(med(sc_w))),
     f(ms(pct(sc_w, 99))), "+" + f(ms(med(st_w) - med(sc_w) if st_w and sc_w else None)) + " ms", ""])
row(["  su start to the shell running, at a terminal", str(len(st_login)), f(ms(med(st_login))),
     f(ms(pct(st_login, 99))), "su_cubby", f(ms(med(sc_login))), f(ms(pct(sc_login, 99))),
     "+" + f(ms(med(st_login) - med(sc_login) if st_login and sc_login else None)) + " ms", ""])
row(["  the same su at a terminal without pam_cubby (wall)", str(len(stp_w)), f(ms(med(stp_w))),
     f(ms(pct(stp_w, 99))), "su_plain", f(ms(med(sp_w))), f(ms(pct(sp_w, 99))), "", ""])
relay = {}
for r in read_csv("relay.csv"):
    if r["status"] == "0" and r["out"].startswith("bytes="):
        relay.setdefault(r["label"], []).append(int(r["out"][6:]) / (int(r["wall_us"]) / 1e6) / 2**20)
for label, desc in (("relay_cubby", "terminal output through the relay (MiB/s, whole su)"),
                    ("relay_plain", "  the same su without pam_cubby (MiB/s)")):
    v = relay.get(label, [])
    out["setup"][label + "_mib_s"] = {"n": len(v), "median": med(v)}
    row([desc, str(len(v)), f(med(v), 0), "", "", "", "", "", ""])


def ms_file(name):
    """setup_ms figures (0.01 ms steps, whole ms in older builds), in us"""
    p = os.path.join(R, name)
    if not os.path.exists(p):
        return []
    with open(p) as fh:
        return [float(x) * 1000 for x in fh.read().split() if re.fullmatch(r"[0-9]+(\.[0-9]+)?", x)]


def held_pam():
    """pamtime's fields with 0 held and with N held (the scale phase)"""
    return (pam_fields("pam_cubby", lambda it: it.startswith("held0-")),
            pam_fields("pam_cubby", lambda it: it.startswith("held") and not it.startswith("held0-")))


def pam_fields(label, iters=None):
    d = {}
    for r in by.get(label, []) if iters is None else [x for x in rows if x["label"] == label and iters(x["iter"])]:
        if r["status"] != "0":
            continue
        for tok in r["out"].split():
            if "=" in tok:
                k, v = tok.split("=", 1)
                if v.isdigit():
                    d.setdefault(k, []).append(int(v))
    return d


# the setup rounds only (numbered): the scale phase adds held0-*/heldN-* rows
pc, pp = pam_fields("pam_cubby", str.isdigit), pam_fields("pam_plain", str.isdigit)
for k, desc in (("open_us", "pam_open_session (pamtime, no tracer): the module's login work"),
                ("close_us", "pam_close_session: the module's logout work")):
    a, b = pc.get(k, []), pp.get(k, [])
    out["setup"]["pam_cubby_" + k] = stat(a)
    out["setup"]["pam_plain_" + k] = stat(b)
    if a and b:
        row(["  " + desc, str(len(a)), f(ms(med(a)), 2), f(ms(pct(a, 99)), 2), "the stack without pam_cubby",
             f(ms(med(b)), 2), f(ms(pct(b, 99)), 2), "+" + f(ms(med(a) - med(b)), 2) + " ms", ""])
sh_c, sh_p = su_split("ssh_cubby")[0], su_split("ssh_plain")[0]
shw_c, shw_p = walls("ssh_cubby"), walls("ssh_plain")
out["setup"]["ssh_cubby_to_shell"] = stat(sh_c)
out["setup"]["ssh_plain_to_shell"] = stat(sh_p)
out["setup"]["ssh_cubby_wall"] = stat(shw_c)
out["setup"]["ssh_plain_wall"] = stat(shw_p)
if sh_c and sh_p:
    row(["ssh USER@127.0.0.1 'echo $EPOCHREALTIME', one at a time: client start to shell running",
         str(len(sh_c)), f(ms(med(sh_c))), f(ms(pct(sh_c, 99))), "an unsandboxed user",
         f(ms(med(sh_p))), f(ms(pct(sh_p, 99))),
         f(ratio(med(sh_c), med(sh_p)), 2) + "x, +" + f(ms(med(sh_c) - med(sh_p))) + " ms", ""])
    row(["  the same, client wall (connect to exit)", str(len(shw_c)), f(ms(med(shw_c))),
         f(ms(pct(shw_c, 99))), "an unsandboxed user", f(ms(med(shw_p))), f(ms(pct(shw_p, 99))),
         f(ratio(med(shw_c), med(shw_p)), 2) + "x, +" + f(ms(med(shw_c) - med(shw_p))) + " ms", ""])
shm, shn = su_split("ssh_ct_move")[0], su_split("ssh_ct_nomove")[0]
out["setup"]["ssh_ct_move_to_shell"] = stat(shm)
out["setup"]["ssh_ct_nomove_to_shell"] = stat(shn)
if shm and shn:
    row(["ssh, container = user (joining its container): client start to shell running, "
         "with sshd moved into the container's netns", str(len(shm)), f(ms(med(shm))), f(ms(pct(shm, 99))),
         "the same sshd under a PAM service without the move", f(ms(med(shn))), f(ms(pct(shn, 99))),
         "%+.2f ms" % ms(med(shm) - med(shn)), ""])
# the move's own time, as pam_cubby logs it (session_start net_move_us)
try:
    with open(os.path.join(R, "syslog.txt"), errors="replace") as fh:
        mv = [int(m) for m in re.findall(r"event=session_start .*?net_move_us=([0-9]+)", fh.read())]
except OSError:
    mv = []
out["setup"]["net_move_us"] = {"n": len(mv), "p50_us": med(mv) if mv else None,
                               "p99_us": pct(mv, 99) if mv else None}
if mv:
    P("")
    P(f"the move of sshd's monitor into the container's netns itself (pam_cubby's net_move_us): "
      f"p50 {med(mv):.0f} us, p99 {pct(mv, 99):.0f} us over {len(mv)} logins")
P("")
P("floor breakdown (p50 / p99 ms): " + ", ".join(
    f"{k[:-3]} {f(ms(med(fl[k])), 2)} / {f(ms(pct(fl[k], 99)), 2)}"
    for k in ("record_us", "cgroup_us", "overlay_us", "root_us", "start_us", "setup_us", "run_us", "teardown_us", "total_us")
    if k in fl))
# the module's open_session next to the floor's objects of the same kind:
# the session's record, its cgroups and the overlay home
FLOOR_OPEN_STEPS = ("record_us", "cgroup_us", "overlay_us")
open_vs_floor = None
if pc.get("open_us") and all(fl.get(k) for k in FLOOR_OPEN_STEPS):
    fo = sum(med(fl[k]) for k in FLOOR_OPEN_STEPS)
    mo = med(pc["open_us"])
    open_vs_floor = {"module_p50_ms": ms(mo), "module_p99_ms": ms(pct(pc["open_us"], 99)), "n": len(pc["open_us"]),
                     "floor_p50_ms": ms(fo), "ratio": mo / fo if fo else None}
    P(f"module open_session p50 {f(ms(mo), 2)} ms next to the floor's record + cgroup + overlay p50 {f(ms(fo), 2)} ms: "
      f"{f(open_vs_floor['ratio'], 2)}x ({target(fo > 0 and mo / fo <= 2, 'at most 2x')})")
    out["setup"]["open_vs_floor"] = open_vs_floor["ratio"]
P("")

# ---------------------------------------------------------------- peers
P("## 3. Peers (wall time of the whole command, /bin/true inside)")
P("")
row(["command", "n", "p50 ms", "p99 ms", "cubby login added (p50) / this"])
row(["---"] * 5)
for label, desc in (("floor", "bench/floor (all of cubby's kernel objects, exec /bin/true, teardown)"),
                    ("bwrap", "bwrap --unshare-all --ro-bind / / --dev --proc --tmpfs /tmp,/run (as the user)"),
                    ("unshare", "unshare --user --map-current-user --pid --fork --mount --uts --net --ipc --cgroup (as the user)"),
                    ("firejail", "firejail --noprofile --net=BRIDGE (root: Debian's restricted-network)")):
    w = walls(label)
    if label == "floor":
        w = fl_total
    if not w:
        row([desc, "0", "n/a", "n/a", "n/a (not run or all failed)"])
        continue
    row([desc, str(len(w)), f(ms(med(w)), 2), f(ms(pct(w, 99)), 2), f(ratio(added, med(w)), 2) + "x"])
P("")

# ---------------------------------------------------------------- storm
storm = read_csv("storm.csv")
td = {r["label"]: r for r in read_csv("storm-teardown.csv")}
if storm:
    P("## 4. Login storm: N concurrent ssh logins (client start to shell running; sshd MaxStartups raised)")
    P("")
    row(["run", "ok / N", "login p50 ms", "login p99 ms", "client wall p99 ms", "all clients done s",
         "last client to all torn down ms", "target"])
    row(["---"] * 8)
    labels = []
    for r in storm:
        if r["label"] not in labels:
            labels.append(r["label"])
    out["storm"] = {}
    for label in labels:
        rs = [r for r in storm if r["label"] == label]
        good = [r for r in rs if r["status"] == "0" and stamp_us(r["out"]) is not None]
        lg = [stamp_us(r["out"]) - int(r["start_us"]) for r in good]
        wl = [int(r["wall_us"]) for r in good]
        t = td.get(label, {})
        done = clean = None
        if t:
            done = (int(t["all_clients_done_us"]) - int(t["start_us"])) / 1e6
            if t.get("all_clean_us"):
                clean = (int(t["all_clean_us"]) - int(t["all_clients_done_us"])) / 1e3
        n = int(t["n"]) if t else len(rs)
        tg = ""
        if label.startswith("cubby-100"):
            tg = target(len(good) == n and pct(lg, 99) is not None and pct(lg, 99) < 1e6,
                        "all ok, p99 < 1 s")
        row([label, f"{len(good)} / {n}", f(ms(med(lg))), f(ms(pct(lg, 99))), f(ms(pct(wl, 99))),
             f(done, 2), f(clean, 0) if label.startswith("cubby") else "-", tg])
        out["storm"][label] = {"ok": len(good), "n": n, "login": stat(lg), "wall": stat(wl),
                               "all_done_s": done, "teardown_after_last_ms": clean}
    P("")

# ---------------------------------------------------------------- scale
mem = read_csv("scale-mem.csv")
res = kv_file("scale-result.txt")
starts = read_csv("scale-start.csv")
if mem and res:
    held = int(res.get("held", "0"))
    base = next((m for m in mem if m["count"] == "0"), None)
    top = [m for m in mem if m["count"] == str(held)]
    top = top[-1] if top else None
    after = next((m for m in mem if m["count"] == "-1"), None)
    P(f"## 5. Scale: idle sandboxes held at once (su USER -c 'exec sleep', 10 users, network = nat)")
    P("")
    P(f"held: {held}; stopped by: {res.get('stop', '?')}")
    sc = {"held": held, "stop": res.get("stop")}
    if base and top and held > 0:
        def d(k):
            return int(top[k]) - int(base[k])
        avail = -d("memavailable_kib") / held
        helper = int(top["pss_helper_kib"]) / held
        su = int(top["pss_su_kib"]) / held
        sl = int(top["pss_sleep_kib"]) / held
        slab = d("slab_kib") / held
        unrec = d("sunreclaim_kib") / held
        kst = d("kernelstack_kib") / held
        ptb = d("pagetables_kib") / held
        kernel = avail - helper - su - sl
        P("")
        row(["per idle sandbox", "KiB", "note"])
        row(["---"] * 3)
        row(["MemAvailable drop / count", f(avail, 0), "everything: user space + kernel"])
        row(["cubby-shell supervisor (Pss)", f(helper, 0),
             target(helper < 1024, "cubby's user space < 1 MiB")])
        row(["su, the opener (Pss; not cubby's, but held per login)", f(su, 0), ""])
        row(["the shell's sleep (Pss)", f(sl, 0), ""])
        row(["kernel (MemAvailable drop - the Pss above)", f(kernel, 0),
             "namespaces, mounts, veth, cgroups, task structs"])
        row(["  of which slab (unreclaimable)", f(slab, 0) + f" ({f(unrec, 0)})", ""])
        row(["  of which kernel stacks + page tables", f(kst + ptb, 0), ""])
        sc.update({"per_sandbox_kib": {"memavailable": avail, "helper_pss": helper, "su_pss": su,
                                       "sleep_pss": sl, "kernel": kernel, "slab": slab,
                                       "sunreclaim": unrec, "kernelstack": kst, "pagetables": ptb}})
    if starts:
        lat = [(int(r["count"]), int(r["shell_us"]) - int(r["launch_us"]))
               for r in starts if r["shell_us"].isdigit()]
        first = [v for c, v in lat if c <= 100]
        last = [v for c, v in lat if c > max(0, held - 100)]
        P("")
        P(f"start latency (su launch to shell running), first 100: p50 {f(ms(med(first)))} ms, "
          f"p99 {f(ms(pct(first, 99)))} ms; last 100: p50 {f(ms(med(last)))} ms, p99 {f(ms(pct(last, 99)))} ms")
        sc["start_first100"] = stat(first)
        sc["start_last100"] = stat(last)
    h0, hn = held_pam()
    if h0.get("open_us") and hn.get("open_us"):
        for k, what in (("open_us", "open_session"), ("close_us", "close_session")):
            a, b = h0.get(k, []), hn.get(k, [])
            if not a or not b:
                continue
            r50 = med(b) / med(a) if med(a) else 0
            P(f"module {what} (n {len(a)}/{len(b)}): 0 held p50 {f(ms(med(a)), 2)} ms p99 {f(ms(pct(a, 99)), 2)} ms; "
              f"{held} held p50 {f(ms(med(b)), 2)} ms p99 {f(ms(pct(b, 99)), 2)} ms: p50 {f(r50, 2)}x "
              f"({target(r50 <= 1.2, 'within 1.2x')})")
        sc["pam_open_held0"] = stat(h0["open_us"])
        sc["pam_open_heldN"] = stat(hn["open_us"])
        if h0.get("close_us") and hn.get("close_us"):
            sc["pam_close_held0"] = stat(h0["close_us"])
            sc["pam_close_heldN"] = stat(hn["close_us"])
    p = os.path.join(R, "scale-helper-setup-ms.txt")
    if os.path.exists(p):
        hs = [float(x) * 1000 for x in open(p).read().split()
              if re.fullmatch(r"[0-9]+(\.[0-9]+)?", x)]
        if len(hs) >= 20:
            P(f"cubby-shell setup_ms, first 100 sandboxes (0-100 held): p50 {f(ms(med(hs[:100])))} ms, "
              f"p99 {f(ms(pct(hs[:100], 99)))} ms; last 100 ({max(0, held - 100)}-{held} held): "
              f"p50 {f(ms(med(hs[-100:])))} ms, p99 {f(ms(pct(hs[-100:], 99)))} ms")
            sc["helper_setup_first100"] = stat(hs[:100])
            sc["helper_setup_last100"] = stat(hs[-100:])
    if res.get("teardown_clean_us") and held > 0:
        t0 = int(res["teardown_start_us"])
        tsu = int(res["teardown_su_exited_us"])
        tcl = int(res["teardown_clean_us"])
        per = (tcl - t0) / held / 1000
        P(f"teardown of all {held} at once (every PID 1 killed): all su exited after {f((tsu - t0) / 1e6, 2)} s, "
          f"all cgroups and records gone after {f((tcl - t0) / 1e6, 2)} s = {f(per, 2)} ms per session "
          f"({target(per < 20, 'teardown < 20 ms per session')})")
        sc["teardown_ms_per_session"] = per
    elif held > 0 and res.get("teardown_su_exited_us"):
        t0 = int(res["teardown_start_us"])
        tsu = int(res["teardown_su_exited_us"])
        P(f"teardown of all {held} at once (every PID 1 killed): all su exited after {f((tsu - t0) / 1e6, 2)} s, "
          f"but NOT clean 60 s later: {res.get('left_records', '?')} records, "
          f"{res.get('left_session_cgroups', '?')} session cgroups, {res.get('left_procs', '?')} processes left "
          f"({target(False, 'teardown < 20 ms per session')})")
        sc["teardown_ms_per_session"] = None
    if res.get("session_end_timeouts"):
        P(f"sessions whose close_session gave up (session_end result=-110, ETIMEDOUT): {res['session_end_timeouts']}; "
          f"session_end with any error: {res.get('session_end_errors', '?')}; syslog lines saying timeout: "
          f"{res.get('syslog_timeouts', '?')}")
        sc["session_end_timeouts"] = int(res["session_end_timeouts"])
    snap = kv_file("scale-snap-after.txt")
    snap0 = kv_file("scale-snap-before.txt")
    if snap:
        # the container = user student's lingering container is in both
        P("leak snapshot after the teardown (before the scale phase in brackets): " +
          ", ".join(f"{k} {v} ({snap0.get(k, '?')})" for k, v in snap.items()))
        sc["snap_after"] = snap
        sc["snap_before"] = snap0
    one = kv_file("scale-one-result.txt")
    if one and one.get("held"):
        n1 = int(one["held"])
        t0 = int(one["teardown_start_us"])
        line = f"{n1} sessions of ONE user ending at once: all su exited after {f((int(one['teardown_su_exited_us']) - t0) / 1e6, 2)} s"
        if one.get("teardown_clean_us") and n1 > 0:
            per = (int(one["teardown_clean_us"]) - t0) / n1 / 1000
            line += f", clean after {f((int(one['teardown_clean_us']) - t0) / 1e6, 2)} s = {f(per, 2)} ms per session"
        else:
            line += ", NOT clean 60 s later"
        P(line + f"; session_end result=-110: {one.get('session_end_timeouts')}, with any error: "
          f"{one.get('session_end_errors')}, syslog lines saying timeout: {one.get('syslog_timeouts')}")
        snap1 = kv_file("scale-one-snap-after.txt")
        if snap1:
            P("  leak snapshot (before the scale phase in brackets): " +
              ", ".join(f"{k} {v} ({snap0.get(k, '?')})" for k, v in snap1.items()))
        sc["one_user"] = {"held": n1, "timeouts": one.get("session_end_timeouts"), "snap": snap1}
    if after and base:
        P(f"after the teardown: MemAvailable {f((int(base['memavailable_kib']) - int(after['memavailable_kib'])) / 1024, 1)} MiB "
          f"below the start, {after['veths']} host end(s) left")
    out["scale"] = sc
    P("")

# ---------------------------------------------------------------- open_session, step by step
def read_steps(name, first=None, last=None):
    """A steps_us file (one login a line, "name:us,..."): the step names in
    order and each step's times, of the first or last N lines if asked."""
    p = os.path.join(R, name)
    steps, order = {}, []
    if not os.path.exists(p):
        return order, steps
    lines_ = [x for x in open(p).read().splitlines() if x.strip()]
    if first:
        lines_ = lines_[:first]
    if last:
        lines_ = lines_[-last:]
    for line in lines_:
        for part in line.strip().split(","):
            k, _, v = part.partition(":")
            if not v.isdigit():
                continue
            if k not in steps:
                steps[k] = []
                order.append(k)
            steps[k].append(int(v))
    return order, steps


def steps_side_by_side(title, a, b, la, lb):
    """Two step profiles of the same code (a and b: read_steps results),
    each step's median and the ratio; returns them for the JSON."""
    (oa, sa), (ob, sb) = a, b
    if not sa or not sb:
        return None
    P(title)
    P("")
    row(["step", f"n {la}", f"{la} p50 ms", f"n {lb}", f"{lb} p50 ms", "ratio"])
    row(["---"] * 6)
    res = {}
    ta = tb = 0.0
    for k in oa + [k for k in ob if k not in oa]:
        xa, xb = sa.get(k, []), sb.get(k, [])
        ta += med(xa) if xa else 0
        tb += med(xb) if xb else 0
        r = ratio(med(xb), med(xa)) if xa and xb else None
        row([k, str(len(xa)), f(ms(med(xa)), 3) if xa else "-", str(len(xb)),
             f(ms(med(xb)), 3) if xb else "-", f"{f(r, 2)}x" if r else "-"])
        res[k] = {la: stat(xa) if xa else None, lb: stat(xb) if xb else None}
    P(f"sum of the step medians: {f(ms(ta), 2)} ms against {f(ms(tb), 2)} ms")
    P("")
    return res


p = os.path.join(R, "pam-steps.txt")
if os.path.exists(p):
    order, steps = read_steps("pam-steps.txt")
    if steps:
        P("## open_session step by step (session_start steps_us of the setup phase's logins of one user)")
        P("")
        row(["step", "n", "p50 ms", "p99 ms"])
        row(["---", "---", "---", "---"])
        total = 0.0
        for k in order:
            a = steps[k]
            total += med(a)
            row([k, str(len(a)), f(ms(med(a)), 3), f(ms(pct(a, 99)), 3)])
        P(f"sum of the step medians: {f(ms(total), 2)} ms")
        out["pam_steps"] = {k: stat(steps[k]) for k in order}
        P("")

# ---------------------------------------------------------------- 6: container = user
ct = read_csv("container.csv")
if ct:
    cr = kv_file("ct-result.txt")

    def ct_walls(label):
        return [int(r["wall_us"]) for r in ct if r["label"] == label and r["status"] == "0"]

    def ct_ms_file(name):
        p = os.path.join(R, name)
        if not os.path.exists(p):
            return []
        with open(p) as fh:
            return [float(x) * 1000 for x in fh.read().split() if x]

    cs = {}
    P("## 6. Per-user containers (container = user, linger = always)")
    P("")
    P("Wall time from the exec of the command to its exit, each running `bash -c true` in the user's container "
      "(su: as the user, through PAM; --enter and nsenter: root's command entering the running container)")
    P("")
    row(["measure", "n", "p50 ms", "p99 ms", "min ms", "max ms", "failed"])
    row(["---"] * 7)
    for label, text in [("ct_join_su", "su USER -c true, joins the running container"),
                        ("ct_first_su", "su USER -c true, first login (creates it; stopped before)"),
                        ("ct_su_plain", "su USER -c true without pam_cubby (host)"),
                        ("ct_enter", "cubby-shell --enter UID -- true (cubbyctl shell)"),
                        ("ct_nsenter", "nsenter --all -t INIT (the floor)")]:
        w = ct_walls(label)
        st = stat(w)
        bad = len([r for r in ct if r["label"] == label and r["status"] != "0"])
        cs[label] = st
        row([text, str(st["n"]), f(st["p50_ms"], 2), f(st["p99_ms"], 2), f(st["min_ms"], 2), f(st["max_ms"], 2),
             str(bad)])
    for name, text in [("ct-join-helper-ms.txt", "helper: join (start to the shell's exec), syslog setup_ms"),
                       ("ct-enter-helper-ms.txt", "helper: --enter (start to the shell's exec), syslog setup_ms"),
                       ("ct-start-helper-ms.txt", "helper: --start-container (creation), syslog setup_ms")]:
        st = stat(ct_ms_file(name))
        cs[name] = st
        row([text, str(st["n"]), f(st["p50_ms"], 2), f(st["p99_ms"], 2), f(st["min_ms"], 2), f(st["max_ms"], 2), ""])
    P("")
    e, n = cs["ct_enter"], cs["ct_nsenter"]
    r50 = ratio(e["p50_ms"], n["p50_ms"])
    r99 = ratio(e["p99_ms"], n["p99_ms"])
    P(f"--enter / nsenter: p50 {f(r50, 2)}x, p99 {f(r99, 2)}x ({target(None if r50 is None else r50 <= 1.5, 'join within 1.5x of nsenter')})")
    j, sp = cs["ct_join_su"], cs["ct_su_plain"]
    if j["p50_ms"] is not None and sp["p50_ms"] is not None and n["p50_ms"]:
        P(f"su join minus su without cubby (cubby's whole share of a joining login): p50 {f(j['p50_ms'] - sp['p50_ms'], 2)} ms "
          f"= {f((j['p50_ms'] - sp['p50_ms']) / n['p50_ms'], 2)}x nsenter's p50")
    P("")
    if cr.get("init_pss_kib"):
        P(f"idle lingering container (no session): cubby-init Rss {cr.get('init_rss_kib')} KiB, Pss {cr['init_pss_kib']} KiB, "
          f"Private {cr.get('init_private_kib')} KiB ({target(int(cr.get('init_private_kib', '0')) < 1024, 'under 1 MiB')}); "
          f"host processes of the user {cr.get('host_procs_of_user', '?')} (the init only), record {cr.get('record_bytes', '?')} B "
          f"and state {cr.get('idle_bytes', '?')} B in run_dir (tmpfs); the anchor holder (one per host) Pss {cr.get('anchor_pss_kib', '?')} KiB")
    mem = read_csv("ct-mem.csv")
    held = int(cr.get("scale_held", "0") or 0)
    if held:
        base = next((m for m in mem if m["count"] == "0"), None)
        top = next((m for m in reversed(mem) if m["count"] == str(held)), None)
        after = next((m for m in mem if m["count"] == "-1"), None)
        P(f"{held} lingering containers ({cr.get('scale_stop')}; made in {f(int(cr['scale_create_us']) / 1e6, 1)} s, "
          f"{cr.get('scale_records')} records, {cr.get('scale_inits')} cubby-init)")
        if base and top:
            d = lambda k: (int(base[k]) - int(top[k])) if k == "memavailable_kib" else (int(top[k]) - int(base[k]))
            P(f"  per container (machine-wide counters: other work on the machine moves them): "
              f"MemAvailable -{f(d('memavailable_kib') / held, 0)} KiB, Slab +{f(d('slab_kib') / held, 0)} KiB "
              f"(SUnreclaim +{f(d('sunreclaim_kib') / held, 0)}), KernelStack +{f(d('kernelstack_kib') / held, 1)} KiB, "
              f"PageTables +{f(d('pagetables_kib') / held, 1)} KiB; cubby-init Pss "
              f"{f((int(top['pss_inits_kib']) - int(base['pss_inits_kib'])) / held, 1)} KiB each")
        if cr.get("scale_stop_all_us"):
            t = int(cr["scale_stop_all_us"]) / 1e6
            st = stat(ct_ms_file("ct-scale-stop-ms.txt"))
            P(f"  all stopped with cubbyctl stop, one after the other: {f(t, 2)} s ({f(t * 1000 / held, 1)} ms each, "
              f"cubbyctl's start included); the stop itself (container_stop duration_ms, n {st['n']}): "
              f"p50 {f(st['p50_ms'], 0)} ms, p99 {f(st['p99_ms'], 0)} ms")
        leak = cr.get("scale_leak", "").strip()
        P(f"  leak snapshot after the stop: {'nothing left' if not leak else 'LEFT: ' + leak}")
        if base and after:
            P(f"  MemAvailable after the stop: {f((int(base['memavailable_kib']) - int(after['memavailable_kib'])) / 1024, 1)} MiB below the start")
        cs["scale"] = {"held": held, "stop_all_s": int(cr.get("scale_stop_all_us", "0") or 0) / 1e6, "leak": leak}
    cs["result"] = cr
    out["container"] = cs
    P("")

# ---------------------------------------------------------------- the scale targets, side by side
# Everything the scale work is judged by, from this run's figures only.
def targets_section():
    T = {}
    P("## Scale targets, one run (every figure above that they judge, side by side)")
    P("")
    res = kv_file("scale-result.txt")
    held = int(res.get("held", "0") or 0)
    mode = res.get("network_mode", machine.get("network_mode", "?").split()[0])
    h0, hn = held_pam()
    pairs = [("open_session (pamtime)", h0.get("open_us", []), hn.get("open_us", [])),
             ("close_session (pamtime)", h0.get("close_us", []), hn.get("close_us", [])),
             ("helper setup (su login, setup_ms)", ms_file("scale-helper-held0-ms.txt"),
              ms_file(f"scale-helper-held{held}-ms.txt"))]
    row(["with 0 held and with N held", "n", "0 held p50 / p99 ms", f"{held} held ({mode}) p50 / p99 ms",
         "ratio p50 / p99", "target: within 1.2x"])
    row(["---"] * 6)
    T["held"] = {}
    for what, a, b in pairs:
        r50, r99 = ratio(med(b), med(a)), ratio(pct(b, 99), pct(a, 99))
        ok = None if r50 is None or r99 is None else (r50 <= 1.2 and r99 <= 1.2)
        row([what, f"{len(a)} / {len(b)}", f"{f(ms(med(a)), 2)} / {f(ms(pct(a, 99)), 2)}",
             f"{f(ms(med(b)), 2)} / {f(ms(pct(b, 99)), 2)}", f"{f(r50, 2)}x / {f(r99, 2)}x",
             target(ok, "p50 and p99 <= 1.2x")])
        T["held"][what] = {"held0": stat(a), "heldN": stat(b), "ratio_p50": r50, "ratio_p99": r99, "met": ok}
    P("")
    # where the helper's setup grows: its steps (container_start steps_us)
    T["helper_steps"] = steps_side_by_side(
        f"cubby-shell setup step by step, the su logins with 0 and with {held} held:",
        read_steps("scale-helper-held0-steps.txt"), read_steps(f"scale-helper-held{held}-steps.txt"),
        "0 held", f"{held} held")
    if held >= 400:
        T["helper_steps_scale"] = steps_side_by_side(
            f"cubby-shell setup step by step, the scale phase's first 200 sandboxes against its last 200 "
            f"({held - 200}-{held} held):",
            read_steps("scale-helper-steps.txt", first=200), read_steps("scale-helper-steps.txt", last=200),
            "first 200", "last 200")
    row(["mass logout", "held / asked", "timeouts (session_end -110 + syslog lines)",
         "leak snapshot 10 s after the last client (before -> after)", "wall per session ms", "targets"])
    row(["---"] * 6)
    T["mass_logout"] = {}
    for name in ("scale", "scale-bridge"):
        r = kv_file(name + "-result.txt")
        if not r.get("held"):
            continue
        n = int(r["held"])
        want = re.search(r"count bound \(([0-9]+)\)", r.get("stop", ""))
        asked = want.group(1) if want else "?"
        to = None
        if r.get("session_end_timeouts", "").isdigit() and r.get("syslog_timeouts", "").isdigit():
            to = int(r["session_end_timeouts"]) + int(r["syslog_timeouts"])
        b, a = kv_file(name + "-snap-before.txt"), kv_file(name + "-snap-after.txt")
        diff = {k: f"{b.get(k, '?')} -> {v}" for k, v in a.items() if b.get(k) != v}
        leak_ok = bool(a) and not diff
        per = None
        if r.get("teardown_clean_us") and n > 0:
            per = (int(r["teardown_clean_us"]) - int(r["teardown_start_us"])) / n / 1000
        row([f"{n} {r.get('network_mode', '?')} ended at once", f"{n} / {asked}",
             f"{r.get('session_end_timeouts', '?')} + {r.get('syslog_timeouts', '?')}",
             ("clean: " + ", ".join(f"{k} {v}" for k, v in a.items())) if leak_ok
             else "LEFT: " + (", ".join(f"{k} {v}" for k, v in diff.items()) or "no snapshot"),
             f(per, 2) if per is not None else "not clean in 60 s",
             "; ".join([target(None if to is None else to == 0, "0 timeouts"),
                        target(leak_ok, "nothing left"),
                        target(per is not None and per <= 20, "<= 20 ms per session"),
                        target(str(n) == asked, "all held")])])
        T["mass_logout"][name] = {"held": n, "asked": asked, "timeouts": to, "leak": diff, "leak_clean": leak_ok,
                                  "ms_per_session": per, "network_mode": r.get("network_mode")}
    if not T["mass_logout"]:
        row(["not run (--no-scale)", "", "", "", "", ""])
    P("")
    if open_vs_floor:
        o = open_vs_floor
        P(f"open_session on an idle host (setup phase, n {o['n']}): p50 {f(o['module_p50_ms'], 2)} ms, "
          f"p99 {f(o['module_p99_ms'], 2)} ms; the floor's record + cgroup + overlay p50 {f(o['floor_p50_ms'], 2)} ms: "
          f"{f(o['ratio'], 2)}x ({target(None if o['ratio'] is None else o['ratio'] <= 2, 'at most 2x')})")
    else:
        P("open_session next to the floor: n/a (no pamtime or floor figures)")
    T["open_vs_floor"] = open_vs_floor
    T["storm"] = {}
    st = out.get("storm", {})
    # the rounds of one size: cubby-N, cubby-N.r2, ... each with its plain-*
    pairs = {}
    for label in st:
        if not label.startswith("cubby-"):
            continue
        rest = label[6:]
        n = rest.split(".r")[0]
        c, p_ = st[label], st.get("plain-" + rest)
        if not p_:
            continue
        c99, p99 = c["login"]["p99_ms"], p_["login"]["p99_ms"]
        add = None if c99 is None or not p99 else (c99 - p99) / p99 * 100
        pairs.setdefault(n, []).append((p99, c99, add, c["ok"] == c["n"], p_, c))
    for n, ps in pairs.items():
        adds = [a for _, _, a, _, _, _ in ps if a is not None]
        add = med(adds) if adds else None
        all_ok = all(ok for _, _, _, ok, _, _ in ps)
        p99s = [p for p, _, _, _, _, _ in ps if p is not None]
        c99s = [c for _, c, _, _, _, _ in ps if c is not None]
        each = "; ".join(f"{f(p, 0)} / {f(c, 0)} ms, {f(a, 1)}%" for p, c, a, _, _, _ in ps)
        P(f"{n}-login ssh storm, login p99 over {len(ps)} round(s), sshd alone / with cubby, what cubby adds: "
          f"{each}; median {f(add, 1)}% ({target(None if add is None else add <= 10 and all_ok, 'median at most 10%, all ok')})")
        T["storm"][n] = {"plain_p99_ms": med(p99s) if p99s else None, "cubby_p99_ms": med(c99s) if c99s else None,
                         "added_pct": add, "rounds": [{"plain_p99_ms": p, "cubby_p99_ms": c, "added_pct": a}
                                                      for p, c, a, _, _, _ in ps]}
    if not T["storm"]:
        P("ssh storm: not run (--no-storm)")
    out["targets"] = T
    P("")


targets_section()

print("\n".join(lines))
with open(os.path.join(R, "results.json"), "w") as fh:
    json.dump({"machine": machine, "figures": out}, fh, indent=1, default=str)
