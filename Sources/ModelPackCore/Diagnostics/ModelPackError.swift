/// Everything that can stop a modelpack operation, with the file it concerns and a message a user
/// can act on. The CLI prints `description` as one line on stderr and exits with `exitCode`.
package enum ModelPackError: Error, CustomStringConvertible, Equatable {
    /// The command line itself is wrong (unknown format, conflicting flags).
    case usage(String)
    /// A model directory cannot be packed: a required file is missing, a symlink, an unportable name...
    case invalidModel(path: String, reason: String)
    /// A bundle is malformed, tampered with or hostile; nothing was written.
    case invalidBundle(path: String, reason: String)
    /// An archive cannot be read: not an archive, truncated, damaged (Archive's error: it knows
    /// nothing of bundles).
    case invalidArchive(path: String, reason: String)
    /// A limit was exceeded (entries, total size, ratio, document size...).
    case limitExceeded(path: String, reason: String)
    /// The destination exists and `--force` was not given.
    case destinationExists(path: String)
    /// `build` found errors in the model (or warnings, with `--strict`); nothing was written.
    case validationFailed(DiagnosticReport)
    /// The operating system refused an operation (read, write, rename, full disk...).
    case io(path: String, reason: String)
    /// An input the command was given does not exist.
    case inputMissing(path: String)
    /// An input exists but cannot be read (permission denied, a read error).
    case unreadable(path: String, reason: String)
    /// A registry refused or does not hold what was asked for (credentials, a missing tag or blob,
    /// content that does not match its digest). `reference` is as the user wrote it.
    case registry(reference: String, reason: String)

    /// The message, bare: one line naming the file (and line:col where there is one). The CLI's
    /// one printer adds `error:` and colour.
    package var description: String {
        switch self {
        case .usage(let message): return message
        case .invalidModel(let path, let reason), .invalidBundle(let path, let reason),
            .invalidArchive(let path, let reason),
            .limitExceeded(let path, let reason), .io(let path, let reason), .unreadable(let path, let reason),
            .registry(let path, let reason):
            return "\(path): \(reason)"
        case .destinationExists(let path): return "\(path): already exists (use \(CommandFlag.force) to replace it)"
        case .inputMissing(let path): return "\(path): no such file or directory"
        case .validationFailed(let report):
            return
                "\(report.target): \(report.errorCount) error(s), \(report.warningCount) warning(s); nothing was written"
        }
    }

    /// The process exit code (Docs/CLI.md): 1 for a problem with the input, including an input
    /// that is missing or unreadable; 2 for a usage error; 3 when the system failed to carry out
    /// the operation (writing the output: full disk, a file-size limit, permissions).
    package var exitCode: Int32 {
        switch self {
        case .usage, .destinationExists: return ExitStatus.usage
        case .invalidModel, .invalidBundle, .invalidArchive, .limitExceeded, .validationFailed, .inputMissing,
            .unreadable, .registry:
            return ExitStatus.problems
        case .io: return ExitStatus.failure
        }
    }
}

extension ModelPackError {
    /// The same error naming `destination` where it named a path under `temporary`: a user is
    /// never shown a temporary path that is gone by the time they read it.
    func naming(_ destination: String, insteadOf temporary: String) -> ModelPackError {
        func fix(_ path: String) -> String {
            path.hasPrefix(temporary) ? destination + path.dropFirst(temporary.count) : path
        }
        switch self {
        case .invalidModel(let path, let reason): return .invalidModel(path: fix(path), reason: reason)
        case .invalidBundle(let path, let reason): return .invalidBundle(path: fix(path), reason: reason)
        case .invalidArchive(let path, let reason): return .invalidArchive(path: fix(path), reason: reason)
        case .limitExceeded(let path, let reason): return .limitExceeded(path: fix(path), reason: reason)
        case .io(let path, let reason): return .io(path: fix(path), reason: reason)
        case .unreadable(let path, let reason): return .unreadable(path: fix(path), reason: reason)
        case .inputMissing(let path): return .inputMissing(path: fix(path))
        case .destinationExists(let path): return .destinationExists(path: fix(path))
        case .usage, .validationFailed, .registry: return self
        }
    }
}

/// The exit codes of every modelpack command.
package enum ExitStatus {
    package static let success: Int32 = 0
    /// The input has problems: verification failed, validation errors, a refused archive.
    package static let problems: Int32 = 1
    /// The command line is wrong.
    package static let usage: Int32 = 2
    /// The operation could not be carried out (I/O error, full disk, permission denied).
    package static let failure: Int32 = 3
}
