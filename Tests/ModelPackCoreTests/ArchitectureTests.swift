import Foundation
import Testing

/// The core's folders depend one way: a folder may use the types of the folders below it (and of
/// its own layer), never those above. README's architecture section draws the same layers.
@Suite struct ArchitectureTests {
    /// Lowest first. Folders on one line are one layer.
    static let layers: [[String]] = [
        ["Diagnostics"],
        ["Support"],
        ["Archive"],
        ["ModelDirectory"],
        ["Bundle"],
        ["Interface", "Requirements"],
        ["Metadata"],
        ["Audit"],
        ["Check"],
        ["Signing", "Serving"],
        ["Docker", "Registry", "Card"],
        ["Operations"],
        ["Rendering"],
        ["Fuzzing"],
    ]

    static let core = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/ModelPackCore")

    /// Each folder's Swift text without comments and string literals.
    static func sources() throws -> [String: String] {
        var out: [String: String] = [:]
        for folder in try FileManager.default.contentsOfDirectory(atPath: core.path) {
            let dir = core.appendingPathComponent(folder)
            guard let files = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { continue }
            for file in files where file.hasSuffix(".swift") {
                var text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
                for pattern in [##"#?"""[\s\S]*?"""#?"##, ##""(?:[^"\\\n]|\\.)*""##, ##"//[^\n]*"##] {
                    text = text.replacingOccurrences(of: pattern, with: "\"\"", options: .regularExpression)
                }
                out[folder, default: ""] += text + "\n"
            }
        }
        return out
    }

    /// Types declared at the top level of each folder's files (nested types are their owner's).
    static func declarations(_ sources: [String: String]) throws -> [String: String] {
        let regex = try NSRegularExpression(
            pattern:
                #"^(?:public |internal |private |fileprivate |final |indirect )*(?:struct|enum|class|protocol|actor) ([A-Z]\w*)"#,
            options: [.anchorsMatchLines])
        var owner: [String: String] = [:]
        for (folder, text) in sources {
            for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                if let range = Range(match.range(at: 1), in: text) { owner[String(text[range])] = folder }
            }
        }
        return owner
    }

    /// Run state is explicit (`RunContext`): no task-locals, which do not cross the project's own
    /// threads and hid the limits from the Python runners.
    @Test func runStateTravelsInTheRunContext() throws {
        let sources = try Self.sources()
        for (folder, text) in sources {
            #expect(!text.contains("@TaskLocal"), "\(folder) declares a task-local")
            #expect(!text.contains("$current"), "\(folder) reads a task-local")
        }
        let cli = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/modelpack")
        for file in try FileManager.default.contentsOfDirectory(atPath: cli.path) where file.hasSuffix(".swift") {
            let text = try String(contentsOf: cli.appendingPathComponent(file), encoding: .utf8)
            #expect(!text.contains("withValue("), "\(file) sets a task-local")
        }
    }

    @Test func everyFolderHasALayer() throws {
        let folders = Set(try Self.sources().keys)
        #expect(folders == Set(Self.layers.flatMap { $0 }), "a new folder needs its place in the layers")
    }

    @Test func dependenciesRunOneWay() throws {
        let sources = try Self.sources()
        let owner = try Self.declarations(sources)
        let rank = Dictionary(uniqueKeysWithValues: Self.layers.enumerated().flatMap { i, l in l.map { ($0, i) } })
        var upward: [String] = []
        for (folder, text) in sources.sorted(by: { $0.key < $1.key }) {
            for (name, home) in owner.sorted(by: { $0.key < $1.key })
            where home != folder && (rank[home] ?? 0) > (rank[folder] ?? 0) {
                if text.range(of: #"\b\#(name)\b"#, options: .regularExpression) != nil {
                    upward.append("\(folder) uses \(name) from \(home)")
                }
            }
        }
        #expect(upward.isEmpty, "\(upward.joined(separator: "\n"))")
    }

    /// libcurl and the two dozen libraries it pulls in (TLS, Kerberos, LDAP...) are loaded by the
    /// first registry request (dlopen), not linked: a command that never reaches a registry does not
    /// pay for loading them. (RegistryTests show that the registry commands still load it.)
    /// Every command gives its name: without one, ArgumentParser derives it from the type's name by
    /// reflection (`String(describing:)`), for every subcommand on every start, which scans the
    /// static binary's protocol conformances (about 0.5 ms of each command's start-up here).
    @Test func everyCommandNamesItself() throws {
        let cli = Self.core.deletingLastPathComponent().appendingPathComponent("modelpack")
        var configurations = 0
        for file in try FileManager.default.contentsOfDirectory(atPath: cli.path) where file.hasSuffix(".swift") {
            let text = try String(contentsOf: cli.appendingPathComponent(file), encoding: .utf8)
            for part in text.components(separatedBy: "CommandConfiguration(").dropFirst() {
                configurations += 1
                let arguments = part.drop { $0 == " " || $0 == "\n" }
                #expect(arguments.hasPrefix("commandName:"), "\(file): a CommandConfiguration without commandName")
            }
        }
        #expect(configurations >= 20)
    }

    /// modelpack pins TZ for itself (`ProcessZone`); every process it starts gets the user's: each
    /// `Process()` is given `ProcessZone.childEnvironment()`, and the exec in place of the CLI
    /// (serve, predict, test) puts TZ back first.
    @Test func everyChildGetsTheUsersTimeZone() throws {
        let sources = Self.core.deletingLastPathComponent()
        var spawns = 0
        for target in ["ModelPackCore", "modelpack"] {
            let root = sources.appendingPathComponent(target)
            guard let files = FileManager.default.enumerator(atPath: root.path) else { continue }
            for case let file as String in files where file.hasSuffix(".swift") {
                let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
                let processes = text.components(separatedBy: "= Process()").count - 1
                spawns += processes
                #expect(
                    text.components(separatedBy: "ProcessZone.childEnvironment()").count - 1 >= processes,
                    "\(target)/\(file): a Process() without ProcessZone.childEnvironment()")
                if text.contains("execv(") {
                    #expect(
                        text.contains("ProcessZone.unpinForExec()"), "\(target)/\(file): execv without unpinForExec")
                }
            }
        }
        #expect(spawns >= 5)
    }

    @Test func libcurlIsLoadedOnlyWhenNeeded() throws {
        let ldd = try CLI.run([CLI.binary], executable: "/usr/bin/ldd")
        #expect(ldd.status == 0)
        #expect(ldd.stdout.contains("libarchive"))  // the listing is real
        #expect(!ldd.stdout.contains("libcurl"))

        // A libcurl that cannot be loaded is one line on the registry command that needed it.
        let tmp = TempDir()
        try Fixture.write([], to: tmp.file("lib/libcurl.so.4"))
        let result = try CLI.run(
            ["inspect", "127.0.0.1:9/team/iris:1"], environment: ["LD_LIBRARY_PATH": tmp.file("lib")])
        #expect(result.status == 3)
        #expect(
            result.stderr
                == "error: 127.0.0.1:9/team/iris:1: libcurl could not be loaded (\(tmp.file("lib/libcurl.so.4")): file too short); install it (Debian: apt-get install libcurl4)\n"
        )
    }
}
