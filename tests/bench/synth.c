/* synth: deterministic synthetic news feed (JSON Lines) for benchmarks.
 *
 * usage: synth N SEED [WORDLIST] > out.jsonl
 *
 * Writes N JSON objects, one per line:
 *   {"url":"https://synth.example/<section>/<yyyy>/<mm>/<n>.html","title":"...",
 *    "date":"yyyy-mm-dd","section":"...","maintext":"..."}
 * Every value depends only on (SEED, n, WORDLIST), so the output is the same on
 * every machine and can be produced in any order. Words are drawn with a skewed
 * (roughly Zipf-like) distribution so the text compresses like real prose.
 *
 * WORDLIST: one word per line; a blank line starts a new group (e.g. another
 * language); each article uses the words of one group. Words holding '"', '\\',
 * control bytes or more than 64 bytes are skipped. Without WORDLIST (or with
 * "-") a built-in list of syllable words is used.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_WORDS = 1 << 16, MAX_GROUPS = 8, MAX_WORD_LEN = 64 };

struct group {
  size_t first; /* index of the first word in words[] */
  size_t count;
};

static char *words[MAX_WORDS];
static size_t word_count;
static struct group groups[MAX_GROUPS];
static size_t group_count;

static uint64_t splitmix64(uint64_t *state) {
  uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* uniform in [0, n) (n > 0); the tiny modulo bias does not matter here */
static size_t below(uint64_t *rng, size_t n) { return (size_t)(splitmix64(rng) % n); }

/* skewed pick in [0, n): small indexes (frequent words) are much likelier */
static size_t skewed(uint64_t *rng, size_t n) {
  double u = (double)(splitmix64(rng) >> 11) / 9007199254740992.0; /* [0,1) */
  size_t i = (size_t)((double)n * u * u * u);
  return i < n ? i : n - 1;
}

static int word_ok(const char *w, size_t len) {
  if (len == 0 || len > MAX_WORD_LEN)
    return 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)w[i];
    if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
      return 0;
  }
  return 1;
}

static int add_word(const char *w, size_t len) {
  if (word_count >= MAX_WORDS)
    return 0;
  char *copy = malloc(len + 1);
  if (!copy)
    return -1;
  memcpy(copy, w, len);
  copy[len] = '\0';
  words[word_count++] = copy;
  groups[group_count - 1].count++;
  return 0;
}

static void start_group(void) {
  if (group_count > 0 && groups[group_count - 1].count == 0)
    return; /* reuse an empty group */
  if (group_count < MAX_GROUPS) {
    groups[group_count].first = word_count;
    groups[group_count].count = 0;
    group_count++;
  }
}

static int load_builtin(void) {
  static const char *const syl[] = {"ka", "ro", "mi", "tan", "el", "sha", "du", "ver", "no", "li",
                                    "ba", "qui", "at", "os", "ren", "fa", "zu", "ped", "in", "gor"};
  const size_t ns = sizeof syl / sizeof syl[0];
  uint64_t rng = 12345;
  start_group();
  for (size_t i = 0; i < 3000; i++) {
    char buf[MAX_WORD_LEN + 1];
    size_t len = 0, parts = 1 + below(&rng, 3);
    for (size_t p = 0; p < parts; p++) {
      const char *s = syl[skewed(&rng, ns)];
      size_t sl = strlen(s);
      memcpy(buf + len, s, sl);
      len += sl;
    }
    if (add_word(buf, len) != 0)
      return -1;
  }
  return 0;
}

static int load_wordlist(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "synth: cannot open '%s': %s\n", path, strerror(errno));
    return -1;
  }
  char line[4096];
  start_group();
  while (fgets(line, sizeof line, f)) {
    size_t len = strlen(line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
      len--;
    if (len == 0) {
      start_group();
      continue;
    }
    if (word_ok(line, len) && add_word(line, len) != 0) {
      fclose(f);
      return -1;
    }
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    fprintf(stderr, "synth: cannot read '%s'\n", path);
    return -1;
  }
  if (group_count > 0 && groups[group_count - 1].count == 0)
    group_count--;
  if (group_count == 0) {
    fprintf(stderr, "synth: no usable words in '%s'\n", path);
    return -1;
  }
  return 0;
}

static const char *const sections[] = {"world", "politics", "economy", "sport",  "culture",
                                       "science", "local",  "opinion", "health", "technology"};

static void put_words(FILE *out, uint64_t *rng, const struct group *g, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (i > 0)
      fputc(' ', out);
    fputs(words[g->first + skewed(rng, g->count)], out);
  }
}

static void write_article(FILE *out, uint64_t seed, uint64_t n) {
  uint64_t rng = seed ^ (n * UINT64_C(0xD1B54A32D192ED03));
  splitmix64(&rng);
  const struct group *g = &groups[below(&rng, group_count)];
  const char *sec = sections[skewed(&rng, sizeof sections / sizeof sections[0])];
  unsigned year = 2015 + (unsigned)below(&rng, 10);
  unsigned month = 1 + (unsigned)below(&rng, 12);
  unsigned day = 1 + (unsigned)below(&rng, 28);

  fprintf(out, "{\"url\":\"https://synth.example/%s/%u/%02u/%" PRIu64 ".html\",\"title\":\"", sec,
          year, month, n);
  put_words(out, &rng, g, 4 + below(&rng, 7));
  fprintf(out, "\",\"date\":\"%u-%02u-%02u\",\"section\":\"%s\",\"maintext\":\"", year, month, day,
          sec);
  /* 1..4 paragraphs of 1..4 sentences of 5..18 words: about 60 words on average */
  size_t paragraphs = 1 + skewed(&rng, 4);
  for (size_t p = 0; p < paragraphs; p++) {
    if (p > 0)
      fputs("\\n", out);
    size_t sentences = 1 + below(&rng, 4);
    for (size_t s = 0; s < sentences; s++) {
      if (s > 0)
        fputc(' ', out);
      put_words(out, &rng, g, 5 + below(&rng, 14));
      fputc('.', out);
    }
  }
  fputs("\"}\n", out);
}

int main(int argc, char **argv) {
  if (argc < 3 || argc > 4) {
    fputs("usage: synth N SEED [WORDLIST] > out.jsonl\n", stderr);
    return 2;
  }
  char *end;
  errno = 0;
  unsigned long long count = strtoull(argv[1], &end, 10);
  if (errno || *end || argv[1][0] == '-' || end == argv[1]) {
    fprintf(stderr, "synth: bad count '%s'\n", argv[1]);
    return 2;
  }
  errno = 0;
  unsigned long long seed = strtoull(argv[2], &end, 10);
  if (errno || *end || end == argv[2]) {
    fprintf(stderr, "synth: bad seed '%s'\n", argv[2]);
    return 2;
  }
  int rc = (argc == 4 && strcmp(argv[3], "-") != 0) ? load_wordlist(argv[3]) : load_builtin();
  if (rc != 0)
    return 2;

  static char buf[1 << 20];
  setvbuf(stdout, buf, _IOFBF, sizeof buf);
  for (unsigned long long n = 0; n < count; n++)
    write_article(stdout, (uint64_t)seed, (uint64_t)n);
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "synth: write error: %s\n", strerror(errno));
    return 2;
  }
  for (size_t i = 0; i < word_count; i++)
    free(words[i]);
  return 0;
}
