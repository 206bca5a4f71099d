import Foundation
import Testing

@testable import ModelPackCore

#if canImport(Glibc)
    import Glibc
#endif

/// A real registry for the tests: Debian's `docker-registry` (the CNCF distribution registry) on
/// 127.0.0.1 at a free port, open, behind htpasswd Basic auth, or behind the Bearer token server of
/// Fixtures/registry/token_server.py. Stopped by PID when released. With
/// MODELPACK_REQUIRE_REGISTRY=1 (CI) a missing registry fails the tests instead of skipping them.
final class TestRegistry {
    enum Auth {
        case none
        case htpasswd(user: String, password: String)
        /// `firstLifetime`: the first token's lifetime in seconds from now (the registry allows 60 s
        /// of leeway, so -59 is a token that lapses a second after it is issued).
        case token(user: String, password: String, firstLifetime: Int?)
    }

    /// `make check`'s tier (MODELPACK_TIER=check) starts no registry.
    static var available: Bool {
        ProcessInfo.processInfo.environment["MODELPACK_TIER"] != "check"
            && FileSystem.executableOnPath("docker-registry") != nil
    }
    static var required: Bool { ProcessInfo.processInfo.environment["MODELPACK_REQUIRE_REGISTRY"] == "1" }

    /// Whether registry tests can run here; fails the test when CI requires them.
    static func check() -> Bool {
        if available { return true }
        if required { Issue.record("docker-registry is not installed (MODELPACK_REQUIRE_REGISTRY=1)") }
        return false
    }

    let root = TempDir()
    let port: Int
    let auth: Auth
    private var process: Process?
    private var tokenProcess: Process?
    private(set) var tokenPort: Int?

    var host: String { "127.0.0.1:\(port)" }
    var data: String { root.file("data") }
    var logPath: String { root.file("registry.log") }
    var tokenLogPath: String { root.file("tokens.log") }

    /// The CA that signed the registry's certificate, when it speaks TLS.
    var caFile: String { root.file("ca.pem") }

    /// `tls`: the registry speaks HTTPS only, with a certificate for 127.0.0.1 signed by a CA of
    /// the test's own (`caFile`), which no trust store holds. A token registry always does, and so
    /// does its token service (a client sends credentials to a token service on another port only
    /// over TLS): its clients give `--ca-file caFile`.
    init(auth: Auth = .none, tls: Bool = false) throws {
        self.auth = auth
        port = try Self.freePort()
        var tlsSection = ""
        var tls = tls
        if case .token = auth { tls = true }
        if tls {
            try Self.openssl([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=modelpack test CA",
                "-keyout", root.file("ca.key"), "-out", caFile,
            ])
            try Self.openssl([
                "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", root.file("tls.key"),
                "-out", root.file("tls.csr"),
            ])
            try Fixture.write(Array("subjectAltName=IP:127.0.0.1\n".utf8), to: root.file("san.cnf"))
            try Self.openssl([
                "x509", "-req", "-in", root.file("tls.csr"), "-CA", caFile, "-CAkey", root.file("ca.key"),
                "-CAcreateserial", "-days", "2", "-extfile", root.file("san.cnf"), "-out", root.file("tls.pem"),
            ])
            tlsSection = """
                  tls:
                    certificate: \(root.file("tls.pem"))
                    key: \(root.file("tls.key"))

                """
        }
        var authSection = ""
        switch auth {
        case .none: break
        case .htpasswd(let user, let password):
            let htpasswd = Process()
            htpasswd.executableURL = URL(fileURLWithPath: try #require(FileSystem.executableOnPath("htpasswd")))
            htpasswd.arguments = ["-Bbc", root.file("htpasswd"), user, password]
            htpasswd.standardError = FileHandle.nullDevice
            htpasswd.standardOutput = FileHandle.nullDevice
            try htpasswd.run()
            htpasswd.waitUntilExit()
            authSection = """
                auth:
                  htpasswd:
                    realm: modelpack-test
                    path: \(root.file("htpasswd"))

                """
        case .token(let user, let password, let firstLifetime):
            let tokenPort = try Self.freePort()
            self.tokenPort = tokenPort
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("Fixtures/registry/token_server.py").path
            let token = Process()
            token.executableURL = URL(fileURLWithPath: try #require(PythonCompiler.find()))
            token.arguments =
                [script, String(tokenPort), root.file("cert.pem"), tokenLogPath, "\(user):\(password)"]
                + (firstLifetime.map { ["--first-lifetime", String($0)] } ?? [])
                + ["--tls", root.file("tls.pem"), root.file("tls.key")]
            token.standardOutput = FileHandle.nullDevice
            token.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try token.run()
            tokenProcess = token
            try Self.waitForPort(tokenPort)
            authSection = """
                auth:
                  token:
                    realm: https://127.0.0.1:\(tokenPort)/token
                    service: modelpack-test
                    issuer: modelpack-test-issuer
                    rootcertbundle: \(root.file("cert.pem"))

                """
        }
        let config = """
            version: 0.1
            log:
              level: warn
            storage:
              filesystem:
                rootdirectory: \(data)
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:\(port)
            \(tlsSection)\(authSection)
            """
        try Fixture.write(Array(config.utf8), to: root.file("config.yml"))
        try start()
    }

    deinit {
        stop()
        if let tokenProcess, tokenProcess.isRunning {
            kill(tokenProcess.processIdentifier, SIGKILL)
            tokenProcess.waitUntilExit()
        }
    }

    /// Starts (or restarts) the registry on the same port and storage.
    func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(FileSystem.executableOnPath("docker-registry")))
        process.arguments = ["serve", root.file("config.yml")]
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process = process
        try Self.waitForPort(port)
    }

    /// Kills the registry (SIGKILL: as a crash would).
    func stop() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    /// The access log's request lines (`PUT /v2/...`), in order.
    func requests() -> [String] {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let open = line.firstIndex(of: "\""), line.contains("HTTP/1.1\"") else { return nil }
            let rest = line[line.index(after: open)...]
            guard let close = rest.firstIndex(of: "\"") else { return nil }
            let request = rest[..<close]
            let status = rest[rest.index(after: close)...].split(separator: " ").first ?? ""
            return request.replacingOccurrences(of: " HTTP/1.1", with: "") + " " + status
        }
    }

    /// The token server's log lines.
    func tokenRequests() -> [String] {
        ((try? String(contentsOfFile: tokenLogPath, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// The file holding blob `digest` on the registry's disk.
    func blobFile(_ digest: String) -> String {
        let hex = String(digest.dropFirst(7))
        return data + "/docker/registry/v2/blobs/sha256/\(hex.prefix(2))/\(hex)/data"
    }

    static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(FileSystem.executableOnPath("openssl")))
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "openssl \(arguments.joined(separator: " "))")
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        try #require(bound)
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func waitForPort(_ port: Int, seconds: Int = 5) throws {
        for _ in 0..<(seconds * 40) {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            close(fd)
            if connected { return }
            usleep(25_000)
        }
        Issue.record("nothing listens on 127.0.0.1:\(port) after \(seconds) s")
    }
}

/// Fixtures/registry/cutting_proxy.py in front of a registry: loses the connection after `cut`
/// bytes of the first large blob it serves (and, with `ignoreRange`, then drops Range headers).
final class CuttingProxy {
    let root = TempDir()
    let port: Int
    private let process = Process()
    var host: String { "127.0.0.1:\(port)" }

    init(upstream: String, cut: Int, ignoreRange: Bool = false) throws {
        port = try TestRegistry.freePort()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/registry/cutting_proxy.py").path
        process.executableURL = URL(fileURLWithPath: try #require(PythonCompiler.find()))
        process.arguments =
            [script, String(port), upstream, String(cut), root.file("proxy.log")]
            + (ignoreRange ? ["--ignore-range"] : [])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try TestRegistry.waitForPort(port)
    }

    deinit {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// The requests it forwarded, one object each (method, path, range, status, sent, cut).
    func requests() -> [[String: Any]] {
        let text = (try? String(contentsOfFile: root.file("proxy.log"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }
}

/// A client environment of its own: blob cache and Docker configuration in a temporary directory.
struct ClientEnvironment {
    let root = TempDir()
    var cache: String { root.file("cache") }
    var dockerConfig: String { root.file("docker") }
    var variables: [String: String] { ["MODELPACK_CACHE": cache, "DOCKER_CONFIG": dockerConfig] }

    /// Runs the CLI in this environment (plus `environment`), with `stdin` as its input when given.
    func run(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) throws -> CLI.Result {
        let variables = self.variables.merging(environment) { $1 }
        if let stdin {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CLI.binary)
            process.arguments = arguments
            var env = ProcessInfo.processInfo.environment
            env.merge(variables) { $1 }
            process.environment = env
            let input = Pipe(), out = Pipe(), err = Pipe()
            process.standardInput = input
            process.standardOutput = out
            process.standardError = err
            try process.run()
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try input.fileHandleForWriting.close()
            let o = out.fileHandleForReading.readDataToEndOfFile()
            let e = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return CLI.Result(
                status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                stderr: String(decoding: e, as: UTF8.self))
        }
        return try CLI.run(arguments, environment: variables)
    }

    func json(_ arguments: [String]) throws -> [String: Any] {
        let result = try run(arguments + ["--format", "json"])
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }
}
