// The PostgreSQL backend against a real server: IMGSYNC_TEST_PG names it (a connection URI whose
// role may CREATE DATABASE; each test makes a database of its own and drops it). Without it every
// test is skipped with a message. Not part of `unittest`, which runs without a network.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
    doctest::Context context;
    context.applyCommandLine(argc, argv);
    const char* uri = std::getenv("IMGSYNC_TEST_PG");
    if (!uri || !*uri) {
        std::printf("pg_store_test: IMGSYNC_TEST_PG is not set (a postgresql:// URI of a test "
                    "server): every test skipped\n");
        context.setOption("test-case-exclude", "*");
    }
    return context.run();
}
