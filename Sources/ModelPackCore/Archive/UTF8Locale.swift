#if canImport(Glibc)
    import Glibc
#endif

/// libarchive converts entry names through the current locale's character set. In the C locale a
/// non-ASCII name cannot be converted: the name comes back NULL (libarchive 3.6 then crashes in
/// its writers) or the read gives ARCHIVE_WARN. Bundle paths are UTF-8 by definition, so every
/// libarchive call runs under a thread-local UTF-8 locale (`uselocale`), whatever the process's
/// locale is; the bytes written do not depend on the user's environment either.
enum UTF8Locale {
    nonisolated(unsafe) private static let handle: locale_t? = {
        for name in ["C.UTF-8", "C.utf8", "en_US.UTF-8"] {
            if let l = newlocale(LC_CTYPE_MASK, name, nil) { return l }
        }
        return nil
    }()

    static func with<T>(_ body: () throws -> T) rethrows -> T {
        guard let handle else { return try body() }
        let previous = uselocale(handle)
        defer { uselocale(previous) }
        return try body()
    }
}
