#!/usr/bin/env python3
"""Solves a mentorbridge matching problem with an independent MILP solver.

Reads the JSON that `cargo run --release -p mentorbridge --example
matching_instance -- SEED MENTEES MENTORS SLOTS PERCENT` prints, builds the
problem as a 0-1 programme written from the rules in words (not from our
code), and solves it lexicographically as the optimiser's objective is:
the most matches in the most important tier, holding that, the most in the
next, ..., then the most total fit. Prints both answers and both times, and
exits 1 if they differ.

Rules: each mentee has at most one placement (a mentor who fits them, in a
slot the mentor is free in and the mentee is not ruled out of); a mentor
takes at most their capacity, and at most one mentee in each period of
their own timetable; a slot holds at most its capacity in pairs. A
placement is worth the pair's fit plus the slot's value plus the mentor's
bonus for keeping that slot.

    pip install pulp highspy
    python3 server/benches/milp.py [--solver highs|cbc] < instance.json
"""

import argparse
import json
import sys
import time

import pulp


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--solver", choices=["highs", "cbc"], default="highs")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    data = json.load(sys.stdin)
    problem, ours = data["problem"], data["mentorbridge"]

    mentors = problem["mentors"]
    slot_capacity = problem["slot_capacity"]
    slot_value = problem["slot_value"]

    def place_value(m, s):
        bonus = sum(b for (slot, b) in mentors[m]["slot_bonus"] if slot == s)
        return (slot_value[s] if s < len(slot_value) else 0) + bonus

    x = {}
    for i, mentee in enumerate(problem["mentees"]):
        for choice in mentee["options"]:
            m = choice["mentor"]
            for group in mentors[m]["slots"]:
                for s in group:
                    if s in mentee["unavailable"] or slot_capacity[s] == 0:
                        continue
                    x[i, m, s] = (
                        pulp.LpVariable(f"x_{i}_{m}_{s}", cat="Binary"),
                        choice["fit"] + place_value(m, s),
                    )

    model = pulp.LpProblem("mentoring", pulp.LpMaximize)
    by_mentee, by_mentor, by_slot, by_period = {}, {}, {}, {}
    for (i, m, s), (var, _) in x.items():
        by_mentee.setdefault(i, []).append(var)
        by_mentor.setdefault(m, []).append(var)
        by_slot.setdefault(s, []).append(var)
        group = next(g for g, slots in enumerate(mentors[m]["slots"]) if s in slots)
        by_period.setdefault((m, group), []).append(var)
    for i, vs in by_mentee.items():
        model += pulp.lpSum(vs) <= 1, f"mentee_{i}"
    for m, vs in by_mentor.items():
        model += pulp.lpSum(vs) <= mentors[m]["capacity"], f"capacity_{m}"
    for (m, g), vs in by_period.items():
        model += pulp.lpSum(vs) <= 1, f"period_{m}_{g}"
    for s, vs in by_slot.items():
        model += pulp.lpSum(vs) <= slot_capacity[s], f"slot_{s}"

    def solver():
        if args.solver == "highs":
            return pulp.HiGHS(msg=False, gapRel=0, threads=args.threads)
        return pulp.PULP_CBC_CMD(msg=False, gapRel=0, threads=args.threads)

    tiers = sorted({m["tier"] for m in problem["mentees"]}, reverse=True)
    top = max(tiers, default=0)
    matched = []
    started = time.monotonic()
    for tier in range(top, -1, -1):
        in_tier = [v for (i, _, _), (v, _) in x.items() if problem["mentees"][i]["tier"] == tier]
        model.setObjective(pulp.lpSum(in_tier))
        model.solve(solver())
        assert pulp.LpStatus[model.status] == "Optimal", pulp.LpStatus[model.status]
        best = round(pulp.value(model.objective) or 0)
        matched.append(best)
        model += pulp.lpSum(in_tier) >= best, f"tier_{tier}"
    model.setObjective(pulp.lpSum(w * v for (v, w) in x.values()))
    model.solve(solver())
    assert pulp.LpStatus[model.status] == "Optimal", pulp.LpStatus[model.status]
    fit = round(pulp.value(model.objective) or 0)
    seconds = time.monotonic() - started

    print(
        f"{args.solver}: {len(x)} variables, {len(model.constraints)} constraints; "
        f"matched by tier {matched}, fit {fit}, in {seconds:.1f} s"
    )
    print(
        f"mentorbridge: matched by tier {ours['matched_by_tier']}, fit {ours['fit']}, "
        f"proven optimal {ours['optimal']} after {ours['nodes']} subproblems, in {ours['seconds']:.3f} s"
    )
    same = matched == ours["matched_by_tier"] and fit == ours["fit"]
    print("same optimum" if same else "DIFFERENT")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
