// --db: a state file path, a PostgreSQL URI, or a refusal that names the problem.
#include "storage/db_target.hpp"

#include <doctest/doctest.h>

using imgsync::storage::Backend;
using imgsync::storage::classify_db;
using imgsync::storage::DbSource;
using imgsync::storage::uri_has_password;

TEST_CASE("a path is a SQLite state file, as it always was") {
    for (const char* path :
         {"/var/lib/imgsync/state.db", "state.db", "./a:b/state.db", "C:state.db"}) {
        auto t = classify_db(path, DbSource::command_line);
        REQUIRE(t.ok());
        CHECK(t->backend == Backend::sqlite);
        CHECK(t->value == path);
    }
    // A file name with "://" further in is still a path (no scheme before it).
    CHECK(classify_db("./x://y", DbSource::command_line)->backend == Backend::sqlite);
    CHECK(classify_db("1abc://y", DbSource::command_line)->backend == Backend::sqlite);
}

TEST_CASE("postgresql:// and postgres:// URIs name a database") {
    for (const char* uri : {"postgresql://imgsync@127.0.0.1:5433/imgsync?sslmode=disable",
                            "postgres://db.example.lan/backlog", "postgresql:///imgsync",
                            "PostgreSQL://host/db", "postgresql://"}) {
        auto t = classify_db(uri, DbSource::command_line);
        REQUIRE(t.ok());
        CHECK(t->backend == Backend::postgresql);
        CHECK(t->value == uri);
    }
}

TEST_CASE("a password in a URI: refused on the command line, accepted from env or config") {
    const char* with_password = "postgresql://imgsync:s3cr3t-pw@127.0.0.1:5433/imgsync";
    auto cli = classify_db(with_password, DbSource::command_line);
    REQUIRE_FALSE(cli.ok());
    CHECK(cli.error().find("password") != std::string::npos);
    CHECK(cli.error().find("s3cr3t") == std::string::npos); // never repeated
    CHECK(cli.error().find("~/.pgpass") != std::string::npos);
    auto env = classify_db(with_password, DbSource::environment_or_config);
    REQUIRE(env.ok());
    CHECK(env->backend == Backend::postgresql);

    auto param =
        classify_db("postgresql://h/db?sslmode=require&Password=s3cr3t", DbSource::command_line);
    REQUIRE_FALSE(param.ok());
    CHECK(param.error().find("s3cr3t") == std::string::npos);
}

TEST_CASE("uri_has_password looks at the user info and the parameters only") {
    CHECK(uri_has_password("postgresql://u:p@h/db"));
    CHECK(uri_has_password("postgresql://u:@h/db")); // an empty password is still one
    CHECK(uri_has_password("postgresql://h/db?password=x"));
    CHECK_FALSE(uri_has_password("postgresql://u@h:5432/db"));      // a port is not a password
    CHECK_FALSE(uri_has_password("postgresql://h:5432/db?user=u")); // nor is a user
    CHECK_FALSE(uri_has_password("postgresql://u@h/db?passwordless=1"));
    CHECK_FALSE(uri_has_password("postgresql://h/a:b@c")); // in the path, not the user info
}

TEST_CASE("any other scheme is refused instead of becoming a relative path") {
    for (const char* uri : {"mysql://root:pw@h/db", "http://127.0.0.1/state.db", "sqlite://x",
                            "file:///var/lib/imgsync/state.db", "s3+x://b"}) {
        auto t = classify_db(uri, DbSource::environment_or_config);
        REQUIRE_FALSE(t.ok());
        CHECK(t.error().find("is not a state file path or a PostgreSQL URI") != std::string::npos);
        CHECK(t.error().find("pw") == std::string::npos);
    }
    CHECK(classify_db("mysql://x", DbSource::command_line).error().rfind("--db: mysql://", 0) == 0);
}

TEST_CASE("an empty --db is refused") {
    CHECK_FALSE(classify_db("", DbSource::command_line).ok());
}
