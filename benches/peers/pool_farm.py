"""The farm benchmark's work (`csp/benches/farm.rs`) in Python's multiprocessing.Pool.

Each value is `rounds` steps of a 64-bit xorshift generator, as `work` in farm.rs;
Pool.map spreads the values over one worker process per core. Prints the wall time per
value, to set beside the farm's and rayon's figures.

Usage: python3 pool_farm.py VALUES ROUNDS   (run.sh pool runs the coarse and fine grains)
"""
import multiprocessing
import os
import sys
import time

MASK = (1 << 64) - 1


def work(args):
    seed, rounds = args
    x = seed | 1
    for _ in range(rounds):
        x ^= (x << 13) & MASK
        x ^= x >> 7
        x ^= (x << 17) & MASK
    return x


def main():
    values, rounds = int(sys.argv[1]), int(sys.argv[2])
    cores = os.cpu_count() or 1
    with multiprocessing.Pool(cores) as pool:
        pool.map(work, [(0, 1)] * cores)  # start the workers before timing
        started = time.perf_counter()
        out = pool.map(work, [(i, rounds) for i in range(values)])
        elapsed = time.perf_counter() - started
    assert len(out) == values
    print(f"python multiprocessing.Pool farm rounds={rounds} workers={cores} "
          f"values={values} ns_per_value={elapsed / values * 1e9:.0f}")


if __name__ == "__main__":
    main()
