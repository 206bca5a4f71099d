/// Everything that can stop a modelpack operation, with the file it concerns and a message a user
/// can act on. The CLI prints `description` as one line on stderr and exits with `exitCode`.
public enum ModelPackError: Error, CustomStringConvertible, Equatable {
    /// The command line itself is wrong (unknown format, conflicting flags).
    case usage(String)
    /// A model directory cannot be packed: a required file is missing, a symlink, an unportable name...
    case invalidModel(path: String, reason: String)
    /// A bundle is malformed, tampered with or hostile; nothing was written.
    case invalidBundle(path: String, reason: String)
    /// A limit was exceeded (entries, total size, ratio, document size...).
    case limitExceeded(path: String, reason: String)
    /// The destination exists and `--force` was not given.
    case destinationExists(path: String)
    /// `build` found errors in the model (or warnings, with `--strict`); nothing was written.
    case validationFailed(DiagnosticReport)
    /// The operating system refused an operation (read, write, rename, full disk...).
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case .usage(let message): return "error: \(message)"
        case .invalidModel(let path, let reason): return "error: \(path): \(reason)"
        case .invalidBundle(let path, let reason): return "error: \(path): \(reason)"
        case .limitExceeded(let path, let reason): return "error: \(path): \(reason)"
        case .destinationExists(let path):
            return "error: \(path): already exists (use --force to replace it)"
        case .io(let path, let reason): return "error: \(path): \(reason)"
        case .validationFailed(let report):
            return
                "error: \(report.target): \(report.errorCount) error(s), \(report.warningCount) warning(s); no bundle was written"
        }
    }

    /// The process exit code documented in the README: 1 for a problem with the input,
    /// 2 for a usage error, 3 when the system failed the operation.
    public var exitCode: Int32 {
        switch self {
        case .usage, .destinationExists: return ExitStatus.usage
        case .invalidModel, .invalidBundle, .limitExceeded, .validationFailed: return ExitStatus.problems
        case .io: return ExitStatus.failure
        }
    }
}

/// The exit codes of every modelpack command.
public enum ExitStatus {
    public static let success: Int32 = 0
    /// The input has problems: verification failed, validation errors, a refused archive.
    public static let problems: Int32 = 1
    /// The command line is wrong.
    public static let usage: Int32 = 2
    /// The operation could not be carried out (I/O error, full disk, permission denied).
    public static let failure: Int32 = 3
}
