/*
 * replay.c -- a main() for the fuzz targets without libFuzzer: runs every
 * file named on the command line, or found in a directory named there
 * (not recursively; names starting with '.' such as .gitkeep are skipped),
 * through LLVMFuzzerTestOneInput once, in name order.
 *
 * Built with the same sources and -fsanitize=address,undefined
 * -fno-sanitize-recover=undefined, so a crash, a sanitizer report or an
 * oracle abort() ends the process with a non-zero status; the last
 * "replay:" line on stderr names the input. `make check-fuzz-corpus` and
 * t/integration/test_fuzz_corpus.py use it; any compiler with ASan builds it.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    unsigned char *data = NULL;
    size_t size = 0, room = 0, n;

    if (fp == NULL) {
        perror(path);
        return -1;
    }
    for (;;) {
        if (size == room) {
            room = room ? room * 2 : 4096;
            data = realloc(data, room);
            if (data == NULL) {
                fclose(fp);
                return -1;
            }
        }
        n = fread(data + size, 1, room - size, fp);
        if (n == 0) {
            break;
        }
        size += n;
    }
    if (ferror(fp)) {
        perror(path);
        fclose(fp);
        free(data);
        return -1;
    }
    fclose(fp);
    /* exactly size bytes, so ASan sees a read past the input */
    data = realloc(data, size ? size : 1);
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, size);
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_dir(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, room = 0, i;
    int rc = 0;

    if (d == NULL) {
        perror(dir);
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        if (n == room) {
            room = room ? room * 2 : 64;
            names = realloc(names, room * sizeof(*names));
            if (names == NULL) {
                closedir(d);
                return -1;
            }
        }
        names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2);
        if (names[n] == NULL) {
            closedir(d);
            return -1;
        }
        sprintf(names[n], "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    if (n > 0) {
        qsort(names, n, sizeof(*names), by_name);
    }
    for (i = 0; i < n; i++) {
        struct stat st;

        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            if (replay_file(names[i]) != 0) {
                rc = -1;
            }
            (*count)++;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    size_t count = 0;
    int i, rc = 0;

    for (i = 1; i < argc; i++) {
        struct stat st;

        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            rc = 1;
        }
        else if (S_ISDIR(st.st_mode)) {
            rc |= replay_dir(argv[i], &count) != 0;
        }
        else {
            rc |= replay_file(argv[i]) != 0;
            count++;
        }
    }
    fprintf(stderr, "replay: %zu inputs, %s\n", count,
            rc ? "could not read some" : "all passed");
    return rc;
}
