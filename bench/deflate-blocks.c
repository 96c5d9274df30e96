/* One core, 1 MiB blocks of the same input: zlib level N (primed with the previous 32 KiB, sync flush, as
 * cog compressed before) against libdeflate level N, plus the cost of the zlib inflate walk cog uses to make
 * libdeflate's blocks joinable. Built and run by bench/deflate.sh; not part of cog. */
#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s FILE LEVEL\n", argv[0]); return 2; }
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 1; }
    fseek(f, 0, SEEK_END); size_t n = (size_t)ftell(f); rewind(f);
    unsigned char *in = malloc(n), *out = malloc(2 << 20), *scratch = malloc((1 << 20) + 1);
    if (!in || !out || !scratch || fread(in, 1, n, f) != n) { fprintf(stderr, "read failed\n"); return 1; }
    fclose(f);
    int level = atoi(argv[2]); size_t block = 1 << 20, zbytes = 0, lbytes = 0;
    double t = now();
    for (size_t o = 0; o < n; o += block) {
        size_t len = n - o < block ? n - o : block; z_stream s; memset(&s, 0, sizeof s);
        if (deflateInit2(&s, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 1;
        if (o >= 32768 && deflateSetDictionary(&s, in + o - 32768, 32768) != Z_OK) return 1;
        s.next_in = in + o; s.avail_in = (uInt)len; s.next_out = out; s.avail_out = 2 << 20;
        if (deflate(&s, Z_SYNC_FLUSH) != Z_OK) return 1;
        zbytes += (2 << 20) - s.avail_out; deflateEnd(&s);
    }
    double zlibSeconds = now() - t, walkSeconds = 0;
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(level);
    if (!c) return 1;
    t = now();
    for (size_t o = 0; o < n; o += block) {
        size_t len = n - o < block ? n - o : block;
        size_t got = libdeflate_deflate_compress(c, in + o, len, out, 2 << 20);
        if (!got) return 1;
        lbytes += got;
        double w = now(); z_stream s; memset(&s, 0, sizeof s);
        if (inflateInit2(&s, -15) != Z_OK) return 1;
        s.next_in = out; s.avail_in = (uInt)got; s.next_out = scratch; s.avail_out = (uInt)len + 1;
        for (;;) {
            if (inflate(&s, Z_BLOCK) != Z_OK) return 1;
            if ((s.data_type & 192) == 192) break;
        }
        inflateEnd(&s); walkSeconds += now() - w;
    }
    double deflateSeconds = now() - t - walkSeconds;
    printf("input %.1f MB, level %d, one core\n", n / 1e6, level);
    printf("zlib       %6.1f MB/s  %zu bytes\n", n / 1e6 / zlibSeconds, zbytes);
    printf("libdeflate %6.1f MB/s  %zu bytes (%.1f%% of zlib's size, %.2fx its speed)\n", n / 1e6 / deflateSeconds,
           lbytes, 100.0 * lbytes / zbytes, zlibSeconds / deflateSeconds);
    printf("inflate walk to join libdeflate's blocks: %.1f MB/s, +%.0f%% on libdeflate's time\n", n / 1e6 / walkSeconds,
           100 * walkSeconds / deflateSeconds);
    return 0;
}
