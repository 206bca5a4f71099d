import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A program modelpack starts and waits for (the runtime's smoke test), its stdout read (bounded)
/// and its stderr the user's.
///
/// It is spawned as a program run from the shell would be, not as Foundation's `Process` starts
/// one: in modelpack's process group (Ctrl-C reaches it), with the default action for the signals
/// modelpack itself ignores while it cleans up (SIGINT, SIGTERM, SIGHUP, SIGXFSZ: an ignored
/// signal stays ignored across exec) and an empty signal mask. It is told modelpack's PID
/// (MODELPACK_SUPERVISOR_PID), so that the runtime ends it when modelpack dies, even by SIGKILL
/// (`follow_supervisor`, PR_SET_PDEATHSIG): no orphan keeps running on a cache entry that is no
/// longer marked in use. Call it from the thread that lives longest (the main thread): Linux ties
/// the death signal to the thread that spawned.
enum ChildProcess {
    struct Ended {
        let status: Int32
        /// Whether it ended by a signal (status is then the signal's number).
        let signalled: Bool
        let stdout: [UInt8]
    }

    /// Runs `executable` with the user's environment (`ProcessZone.childEnvironment`) changed by
    /// `overrides` (nil: unset), and reads at most `limit` bytes of its stdout: past that it is
    /// stopped and this throws, naming `what`.
    static func output(
        _ executable: String, _ arguments: [String], overrides: [(String, String?)], limit: Int, what: String
    ) throws -> Ended {
        var environment = ProcessZone.childEnvironment()
        for (name, value) in overrides { environment[name] = value }
        environment["MODELPACK_SUPERVISOR_PID"] = String(getpid())

        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else {
            throw ModelPackError.io(
                path: executable, reason: "cannot start \(what): \(String(cString: strerror(errno)))")
        }
        // Neither end leaks into another program started meanwhile; dup2 gives the child its fd 1.
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, ends[1], 1)  // dup2 clears close-on-exec on fd 1
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGXFSZ, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        close(ends[1])
        guard spawned == 0 else {
            close(ends[0])
            throw ModelPackError.io(
                path: executable, reason: "cannot start \(what): \(String(cString: strerror(spawned)))")
        }

        var stdout: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var tooMuch = false
        while true {
            let n = chunk.withUnsafeMutableBytes { read(ends[0], $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { break }
            guard stdout.count + n <= limit else {
                tooMuch = true
                kill(pid, SIGTERM)
                break
            }
            stdout += chunk[0..<n]
        }
        close(ends[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        if tooMuch {
            throw ModelPackError.io(
                path: executable, reason: "\(what) wrote more than \(ByteCount.human(Int64(limit))) on stdout; stopped")
        }
        // waitpid's status: the low 7 bits are the signal that ended it (0: it exited, with the
        // next byte as its code).
        let signal = status & 0x7F
        return Ended(
            status: signal == 0 ? (status >> 8) & 0xFF : signal, signalled: signal != 0, stdout: stdout)
    }
}
