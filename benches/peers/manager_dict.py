"""The kv bench's request mix (`csp/benches/kv.rs`) on Python's Manager().dict().

8 client processes each do REQUESTS/8 requests: a set then a get of a key of its own,
every tenth pair on a shared key. Prints requests per second over all clients.

Usage: python3 manager_dict.py REQUESTS
"""
import multiprocessing
import sys
import time

CLIENTS = 8


def key(c, i):
    return -1 if i % 10 == 0 else c


def client(d, c, pairs, start):
    start.wait()
    for i in range(pairs):
        d[key(c, i)] = i
        d.get(key(c, i))


def main():
    requests = int(sys.argv[1])
    pairs = max(1, requests // CLIENTS // 2)
    with multiprocessing.Manager() as manager:
        d = manager.dict()
        start = multiprocessing.Barrier(CLIENTS + 1)
        procs = [multiprocessing.Process(target=client, args=(d, c, pairs, start))
                 for c in range(CLIENTS)]
        for p in procs:
            p.start()
        start.wait()
        started = time.perf_counter()
        for p in procs:
            p.join()
        elapsed = time.perf_counter() - started
    total = pairs * 2 * CLIENTS
    print(f"python Manager().dict() clients={CLIENTS} requests={total} "
          f"requests_per_s={total / elapsed:.0f}")


if __name__ == "__main__":
    main()
