internal import CArchive
import Foundation

/// The one place libarchive return codes are judged. `ARCHIVE_WARN` is an error here: modelpack
/// writes only archives libarchive produces without complaint, and a warning while reading (a
/// truncated header, an untranslatable name, a bad checksum) is reason enough to refuse a bundle.
enum ArchiveCall {
    /// libarchive's message, with the system's reason when it has one and the message lacks it
    /// ("Write error (No space left on device)").
    static func message(_ handle: OpaquePointer?) -> String {
        guard let handle, let text = archive_error_string(handle) else { return "unknown libarchive error" }
        let message = String(cString: text)
        let code = archive_errno(handle)
        // libarchive's own codes on Linux: EILSEQ (bad format), EINVAL (misuse), -1 (other).
        guard code > 0, code != EILSEQ, code != EINVAL else { return message }
        let system = FileSystem.errnoMessage(code)
        return message.contains(system) ? message : "\(message) (\(system))"
    }

    static func check(
        _ code: Int32, _ handle: OpaquePointer?, path: String, _ what: String,
        reading: Bool
    ) throws {
        if code == ARCHIVE_OK { return }
        let reason = "\(what): \(message(handle))"
        if reading { throw ModelPackError.invalidArchive(path: path, reason: reason) }
        throw ModelPackError.io(path: path, reason: reason)
    }
}
