import Foundation

/// The Python `init` pins against: its version and the installed version of each distribution
/// asked for (nil when not installed), read with importlib.metadata in that interpreter.
struct InstalledDistributions {
    let python: String
    let versions: [String: String]

    static let script = """
        import importlib.metadata as m, json, sys
        found = {}
        for name in sys.argv[1:]:
            try:
                found[name] = m.version(name)
            except m.PackageNotFoundError:
                pass
        print(json.dumps({"python": "%d.%d" % sys.version_info[:2], "versions": found}))
        """

    static func query(_ python: String, _ names: [String]) throws -> InstalledDistributions {
        let interpreter = try FileSystem.interpreter(python)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: interpreter)
        process.arguments = ["-I", "-c", script] + names
        process.environment = ProcessZone.childEnvironment()
        let output = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch {
            throw ModelPackError.io(path: interpreter, reason: "cannot run: \(error)")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let version = object["python"] as? String, let versions = object["versions"] as? [String: String]
        else {
            throw ModelPackError.io(
                path: interpreter, reason: "could not list its installed distributions (is it Python 3.8 or later?)")
        }
        return InstalledDistributions(python: version, versions: versions)
    }
}
