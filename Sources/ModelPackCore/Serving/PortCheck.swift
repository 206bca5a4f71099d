#if canImport(Glibc)
    import Glibc
#endif

/// Whether the server can listen where it is asked to, checked before anything is unpacked or
/// printed: a port in use is one error line, not a server that starts and dies.
enum PortCheck {
    static func ensureFree(host: String, port: Int) throws {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
            throw ModelPackError.usage("\(CommandFlag.host) \(host): not an address this machine can listen on")
        }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard fd >= 0 else { throw ModelPackError.io(path: "\(host):\(port)", reason: FileSystem.errnoMessage()) }
        defer { close(fd) }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        if bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) != 0 {
            throw ModelPackError.io(path: "\(host):\(port)", reason: "cannot listen: \(FileSystem.errnoMessage())")
        }
    }
}
