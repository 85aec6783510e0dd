#include "util/dir_walk.hpp"

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace imgsync::util {

namespace {

struct CloseDir {
    void operator()(DIR* d) const { ::closedir(d); }
};
using Dir = std::unique_ptr<DIR, CloseDir>;

// Opens `name` under the directory `parent` (AT_FDCWD for the root) as a directory stream;
// nullptr and errno set on failure.
Dir open_dir(int parent, const char* name) {
    int fd = ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        return nullptr;
    }
    DIR* d = ::fdopendir(fd);
    if (!d) {
        int err = errno;
        ::close(fd);
        errno = err;
    }
    return Dir(d);
}

enum class Kind { directory, regular, symlink, other, gone };

Kind kind_of(DIR* dir, const dirent& e) {
    switch (e.d_type) {
    case DT_DIR:
        return Kind::directory;
    case DT_REG:
        return Kind::regular;
    case DT_LNK:
        return Kind::symlink;
    case DT_UNKNOWN:
        break;
    default:
        return Kind::other;
    }
    struct stat st {};
    if (::fstatat(::dirfd(dir), e.d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return Kind::gone;
    }
    if (S_ISDIR(st.st_mode)) {
        return Kind::directory;
    }
    if (S_ISREG(st.st_mode)) {
        return Kind::regular;
    }
    return S_ISLNK(st.st_mode) ? Kind::symlink : Kind::other;
}

} // namespace

Result<void> walk_tree(const std::string& root, const std::function<void(const WalkEntry&)>& visit,
                       const EnterDir& enter) {
    std::vector<Dir> stack;
    std::vector<std::size_t> lengths; // the path's length at each level, before its entries
    Dir top = open_dir(AT_FDCWD, root.c_str());
    if (!top) {
        if (errno == EACCES) {
            return {};
        }
        return fail(std::strerror(errno));
    }
    std::string path = root;
    if (path.empty() || path.back() != '/') {
        path += '/';
    }
    const std::size_t root_len = path.size();
    stack.push_back(std::move(top));
    lengths.push_back(path.size());
    while (!stack.empty()) {
        DIR* dir = stack.back().get();
        errno = 0;
        const dirent* e = ::readdir(dir);
        if (!e) {
            if (errno != 0) {
                return fail(std::strerror(errno));
            }
            stack.pop_back();
            lengths.pop_back();
            continue;
        }
        if (e->d_name[0] == '.' &&
            (e->d_name[1] == '\0' || (e->d_name[1] == '.' && e->d_name[2] == '\0'))) {
            continue;
        }
        path.resize(lengths.back());
        path += e->d_name;
        Kind kind = kind_of(dir, *e);
        if (kind == Kind::gone) {
            continue; // removed since it was listed
        }
        if (kind == Kind::directory) {
            if (enter && !enter(std::string_view(path).substr(root_len))) {
                continue; // pruned
            }
            Dir sub = open_dir(::dirfd(dir), e->d_name);
            if (!sub) {
                if (errno == EACCES || errno == ENOENT) {
                    continue;
                }
                if (errno == ENOTDIR || errno == ELOOP) {
                    continue; // replaced by a file or a link since it was listed
                }
                return fail(std::strerror(errno));
            }
            path += '/';
            stack.push_back(std::move(sub));
            lengths.push_back(path.size());
            continue;
        }
        EntryKind k = kind == Kind::regular   ? EntryKind::regular
                      : kind == Kind::symlink ? EntryKind::symlink
                                              : EntryKind::other;
        visit(WalkEntry{k, path, std::string_view(path).substr(root_len), ::dirfd(dir), e->d_name});
    }
    return {};
}

} // namespace imgsync::util
