import ArgumentParser
import Foundation
import ModelPackCore

/// How to reach a registry: the flags of push, pull, inspect REF and login.
struct RegistryFlags: ParsableArguments {
    @Flag(help: "Speak plain HTTP to a registry that is not on loopback (loopback always may).")
    var plainHTTP = false

    @Option(
        help:
            "Trust the PEM certificates in this file for the registry's TLS besides the system's store (a loopback registry is then spoken to over TLS).",
        completion: .file())
    var caFile: String?

    @Option(help: "Blob transfers at once.")
    var concurrency = 4

    @Option(
        help: ArgumentHelp(
            "Give up a transfer that moves less than 1 KiB/s for this many seconds.", valueName: "seconds"))
    var stallTimeout = 30

    func validate() throws {
        guard (1...64).contains(concurrency) else { throw ValidationError("--concurrency must be 1 to 64") }
        guard (1...3600).contains(stallTimeout) else { throw ValidationError("--stall-timeout must be 1 to 3600") }
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw ValidationError("--ca-file '\(caFile)' is not a readable file")
        }
        if caFile != nil && plainHTTP { throw ValidationError("--ca-file is for TLS; it cannot go with --plain-http") }
    }

    var options: RegistryOptions {
        var options = RegistryOptions()
        options.plainHTTP = plainHTTP
        options.caFile = caFile
        options.concurrency = concurrency
        options.stallSeconds = stallTimeout
        return options
    }

    /// `context` with a progress line for `verb`, when stderr is a terminal and the report is text.
    static func context(
        _ context: RunContext, progress verb: String, _ progress: ProgressOptions, report: OutputOptions
    ) -> (RunContext, ProgressLine?) {
        var context = context
        guard let line = progress.line(verb, report: report) else { return (context, nil) }
        context.progress = { line.observe($0) }
        return (context, line)
    }
}

struct Push: ReportingCommand, ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Push a bundle to an OCI registry as a CNCF ModelPack artifact.",
        discussion: """
            Every file becomes an uncompressed layer whose digest is the file's SHA-256, so a file \
            the registry already has (an unchanged weight in a new version) is never sent again. \
            The bundle is verified as it streams; the manifest is put last. BUNDLE.sig, when \
            present, is pushed as a referrer of the manifest. REF is [oci://]HOST/REPOSITORY[:TAG] \
            (Docs/REGISTRY.md); credentials come from Docker's config.json (modelpack login).
            """)

    @Argument(help: "The bundle.")
    var bundle: String

    @Argument(help: "Where to push: [oci://]HOST/REPOSITORY[:TAG].")
    var reference: String

    @Option(help: "Mount blobs from this repository of the same registry instead of uploading them.")
    var from: String?

    @Option(help: "Upload blobs larger than this in chunks of this size (e.g. 8MiB; at least 64KiB).")
    var chunkSize = "8MiB"

    @Flag(
        help:
            "Send every blob in one PUT, for a registry that breaks chunked uploads (ghcr.io, Google's and ECR get it anyway)."
    )
    var monolithic = false

    @OptionGroup var registry: RegistryFlags

    @OptionGroup var progress: ProgressOptions

    @OptionGroup var report: OutputOptions

    func validate() throws {
        if report.resolved == .sarif { throw ValidationError("push reports in text or json") }
        guard let bytes = ByteCount.parse(chunkSize), bytes >= 64 << 10, bytes <= 1 << 30 else {
            throw ValidationError("--chunk-size '\(chunkSize)' must be a size from 64KiB to 1GiB")
        }
        if let from { _ = try ImageReference(parsing: "localhost/" + from) }
    }

    func run() throws {
        var options = registry.options
        let (context, line) = RegistryFlags.context(context, progress: "push", progress, report: report)
        defer { line?.finish() }
        options.mountFrom = from
        options.chunkSize = Int(ByteCount.parse(chunkSize) ?? 8 << 20)
        options.monolithic = monolithic
        let result = try Operations.push(
            PushOptions(bundle: bundle, reference: try ImageReference(parsing: reference), registry: options),
            context: context)
        line?.finish()
        Output.result(report.resolved == .json ? RegistryReport.json(result) : RegistryReport.text(result))
    }
}

struct Pull: ReportingCommand, LimitedCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Pull a model from an OCI registry as a bundle or a verified directory.",
        discussion: """
            Every blob is checked against its digest before it is used and kept in the blob cache \
            (an interrupted pull continues where it stopped). -o writes a bundle with the pushed \
            bundle's digest, in the container its extension names; --unpack writes the model \
            directory, which appears only once every file matched. With --require-signature the \
            artifact is refused, before anything is written, unless a signature referrer by a \
            trusted key covers it.
            """)

    @Argument(help: "What to pull: [oci://]HOST/REPOSITORY[:TAG|@DIGEST].")
    var reference: String

    @Option(name: .shortAndLong, help: "Write a bundle (.zip, .tar, .tar.gz or .tar.zst).")
    var output: String?

    @Option(help: "Unpack the model into this directory instead.")
    var unpack: String?

    @Flag(help: "Replace the --unpack directory if it exists.")
    var force = false

    @Flag(help: "Refuse unless a signature by a trusted key (--key, --trusted-keys) covers the artifact.")
    var requireSignature = false

    @OptionGroup var trust: TrustOptions

    @OptionGroup var registry: RegistryFlags

    @OptionGroup var progress: ProgressOptions

    @OptionGroup var report: OutputOptions

    @OptionGroup(title: "Limits on input", visibility: .hidden) var limitOptions: ArchiveLimitOptions
    var limits: Limits { limitOptions.limits }

    func validate() throws {
        if (output == nil) == (unpack == nil) { throw ValidationError("give one of -o BUNDLE and --unpack DIR") }
        if requireSignature && !trust.given {
            throw ValidationError("--require-signature needs --key PUB or --trusted-keys DIR")
        }
        if report.resolved == .sarif { throw ValidationError("pull reports in text or json") }
    }

    func run() throws {
        let (context, line) = RegistryFlags.context(context, progress: "pull", progress, report: report)
        defer { line?.finish() }
        var options = PullOptions(reference: try ImageReference(parsing: reference), registry: registry.options)
        options.output = output
        options.unpackTo = unpack
        options.force = force
        options.trustedKeys = requireSignature ? trust.keys : nil
        let result = try Operations.pull(options, context: context)
        line?.finish()
        Output.result(report.resolved == .json ? RegistryReport.json(result) : RegistryReport.text(result))
    }
}

struct Login: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Check credentials against a registry and store them where docker would.",
        discussion: """
            The password is read from standard input (--password-stdin) or asked for on the \
            terminal, never taken as an argument. It is stored through Docker's credential helper \
            for the registry (credHelpers, credsStore) or in config.json's auths, mode 0600.
            """)

    @Argument(help: "The registry host[:port].")
    var registry: String

    @Option(name: .shortAndLong, help: "The user name.")
    var username: String

    @Flag(help: "Read the password from standard input.")
    var passwordStdin = false

    @Option(
        help: ArgumentHelp(
            "Also send the credentials to the token service at this host (HTTPS only), when the registry's Bearer challenge names one on another host. Repeatable.",
            valueName: "host"))
    var realmHost: [String] = []

    func validate() throws {
        for host in realmHost where host.isEmpty || host.contains(where: { "/:@ ".contains($0) }) {
            throw ValidationError("--realm-host '\(host)' is not a host name (no scheme, port or path)")
        }
    }

    @OptionGroup var flags: RegistryFlags

    func run() throws {
        let secret: String
        if passwordStdin {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            secret = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
        } else {
            guard isatty(0) != 0, let typed = getpass("Password: ") else {
                throw ModelPackError.usage("no terminal to ask for the password on: use --password-stdin")
            }
            secret = String(cString: typed)
        }
        guard !secret.isEmpty else { throw ModelPackError.usage("the password is empty") }
        let place = try Operations.login(
            registry: registry, username: username, secret: secret, realmHosts: realmHost, options: flags.options)
        Output.result("logged in to \(registry) as \(username); credentials stored in \(place)\n")
    }
}

struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Shrink the blob cache that pull fills, least recently used first.",
        discussion: """
            The same as 'modelpack cache prune --only blobs' with --keep 0 by default. The cache is under \
            MODELPACK_CACHE (else $XDG_CACHE_HOME/modelpack or ~/.cache/modelpack).
            """)

    @Option(help: "Keep at most this much (e.g. 10GiB; 0 empties the cache).")
    var keep: String = "0"

    func run() throws {
        guard let bytes = ByteCount.parse(keep) else {
            throw ModelPackError.usage("--keep '\(keep)' is not a size (e.g. 500MiB, 10GiB)")
        }
        let cache = BlobCache()
        let result = try Operations.prune(keeping: bytes, cache: cache)
        Output.result(
            "removed \(result.removed.count) blob(s), \(ByteCount.human(result.freedBytes)); "
                + "\(ByteCount.human(result.keptBytes)) kept in \(cache.root)\n")
    }
}
