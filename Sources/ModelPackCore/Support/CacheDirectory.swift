import Foundation

/// Where modelpack keeps what it can compute again: `MODELPACK_CACHE`, else
/// `$XDG_CACHE_HOME/modelpack`, else `~/.cache/modelpack` (serve's environments, the compile check's
/// answers).
package enum CacheDirectory {
    package static func path(environment: [String: String]? = nil) -> String {
        let environment = environment ?? ProcessInfo.processInfo.environment
        if let dir = environment["MODELPACK_CACHE"], !dir.isEmpty { return dir }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/modelpack" }
        return (environment["HOME"] ?? "/tmp") + "/.cache/modelpack"
    }
}
