internal import CArchive

/// The one place libarchive return codes are judged. `ARCHIVE_WARN` is an error here: modelpack
/// writes only archives libarchive produces without complaint, and a warning while reading (a
/// truncated header, an untranslatable name, a bad checksum) is reason enough to refuse a bundle.
enum ArchiveCall {
    static func message(_ handle: OpaquePointer?) -> String {
        if let handle, let text = archive_error_string(handle) { return String(cString: text) }
        return "unknown libarchive error"
    }

    static func check(
        _ code: Int32, _ handle: OpaquePointer?, path: String, _ what: String,
        reading: Bool
    ) throws {
        if code == ARCHIVE_OK { return }
        let reason = "\(what): \(message(handle))"
        if reading { throw ModelPackError.invalidBundle(path: path, reason: reason) }
        throw ModelPackError.io(path: path, reason: reason)
    }
}
