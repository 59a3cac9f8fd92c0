/* Anchor for `cargo bench -p csp --bench ipc`: the same two measurements between two
 * MPI ranks (two OS processes on this machine; Open MPI's shared-memory transport).
 *
 * - pingpong: rank 0 sends a u64 with MPI_Ssend (a synchronous send returns only once
 *   the receive has matched: CSP's rendezvous), rank 1 sends it back; per round trip.
 * - stream: rank 1 sends 8-byte messages with MPI_Send (eager: buffered, like a csp
 *   Fifo channel), rank 0 receives them; messages per second, one way.
 *
 * Build: mpicc -O2 -o mpi_pingpong mpi_pingpong.c
 * Run:   mpirun -n 2 ./mpi_pingpong [round_trips] [stream_messages]
 *        (as root, Open MPI also wants --allow-run-as-root; run.sh mpi does it all)
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    long trips = argc > 1 ? atol(argv[1]) : 100000;
    long msgs = argc > 2 ? atol(argv[2]) : 5000000;
    int other = 1 - rank;
    uint64_t v = 0;

    /* Warm-up, then the timed ping-pong. */
    for (int pass = 0; pass < 2; pass++) {
        long n = pass == 0 ? trips / 10 : trips;
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        for (long i = 0; i < n; i++) {
            if (rank == 0) {
                MPI_Ssend(&v, 1, MPI_UINT64_T, other, 0, MPI_COMM_WORLD);
                MPI_Recv(&v, 1, MPI_UINT64_T, other, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            } else {
                MPI_Recv(&v, 1, MPI_UINT64_T, other, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                v++;
                MPI_Ssend(&v, 1, MPI_UINT64_T, other, 0, MPI_COMM_WORLD);
            }
        }
        double took = MPI_Wtime() - t0;
        if (rank == 0 && pass == 1)
            printf("mpi ssend pingpong roundtrip_ns=%.0f v=%llu\n", took * 1e9 / n,
                   (unsigned long long)v);
    }

    /* One-way stream of 8-byte messages, rank 1 to rank 0. */
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    uint64_t sum = 0;
    for (long i = 0; i < msgs; i++) {
        if (rank == 1) {
            uint64_t x = (uint64_t)i;
            MPI_Send(&x, 1, MPI_UINT64_T, 0, 1, MPI_COMM_WORLD);
        } else {
            uint64_t x;
            MPI_Recv(&x, 1, MPI_UINT64_T, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            sum += x;
        }
    }
    double took = MPI_Wtime() - t0;
    if (rank == 0) {
        uint64_t want = (uint64_t)msgs * (uint64_t)(msgs - 1) / 2;
        printf("mpi send stream msgs_per_s=%.0f ns_per_msg=%.1f%s\n", msgs / took,
               took * 1e9 / msgs, sum == want ? "" : " (WRONG SUM)");
    }
    MPI_Finalize();
    return 0;
}
