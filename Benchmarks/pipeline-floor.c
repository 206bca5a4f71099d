/* The build pipeline with nothing else (Benchmarks/README.md): read a file 1 MiB at a time into a
 * ring of 4 buffers, write each buffer to OUT, and SHA-256 it on a second thread (OpenSSL), as
 * modelpack's build does beside its checks, its tar headers and its manifest. Prints the seconds
 * it took and the digest. Not part of modelpack: a reference for what this machine allows.
 *   cc -O2 Benchmarks/pipeline-floor.c -o /tmp/pipeline-floor -lcrypto -lpthread
 *   /tmp/pipeline-floor FILE OUT */
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

enum { SLOTS = 4, CHUNK = 1 << 20 };
static unsigned char *ring;
static ssize_t lengths[SLOTS];
static sem_t empty, filled;
static unsigned char digest[32];

static void *hash(void *unused) {
    (void)unused;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit(ctx, EVP_sha256());
    for (int i = 0;; i = (i + 1) % SLOTS) {
        sem_wait(&filled);
        if (lengths[i] <= 0) break;
        EVP_DigestUpdate(ctx, ring + (size_t)i * CHUNK, (size_t)lengths[i]);
        sem_post(&empty);
    }
    EVP_DigestFinal(ctx, digest, NULL);
    EVP_MD_CTX_free(ctx);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) return fprintf(stderr, "usage: %s FILE OUT\n", argv[0]), 2;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int in = open(argv[1], O_RDONLY), out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0) return perror("open"), 1;
    ring = aligned_alloc(64, (size_t)SLOTS * CHUNK);
    sem_init(&empty, 0, SLOTS);
    sem_init(&filled, 0, 0);
    pthread_t hasher;
    pthread_create(&hasher, NULL, hash, NULL);
    for (int i = 0;; i = (i + 1) % SLOTS) {
        sem_wait(&empty);
        ssize_t n = read(in, ring + (size_t)i * CHUNK, CHUNK);
        lengths[i] = n;
        if (n > 0 && write(out, ring + (size_t)i * CHUNK, (size_t)n) != n) return perror("write"), 1;
        sem_post(&filled);
        if (n <= 0) break;
    }
    pthread_join(hasher, NULL);
    close(out);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%.3f s  sha256:", (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    for (int i = 0; i < 32; i++) printf("%02x", digest[i]);
    printf("\n");
    return 0;
}
