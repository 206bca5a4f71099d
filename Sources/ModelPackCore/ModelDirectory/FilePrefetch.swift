import Foundation

/// Reads the small files of a directory ahead of the one pass over it (build and the checks), on a
/// second thread that opens, reads, hashes and closes each one while the caller audits and packs
/// the ones before it. A model of thousands of small files spent most of that pass in the system
/// calls of one file after another on one core; bsdtar does the same calls, but nothing else.
///
/// Only files of at most `maxSize` bytes are read ahead, in order, never more than `budget` bytes
/// at once (memory stays bounded); larger ones are left to the caller's stream (`take` gives nil).
/// A file is read until its end, one byte past its listed size at most, so a file that grew or
/// shrank since the walk is seen as such.
final class FilePrefetch: @unchecked Sendable {
    /// A file read ahead: its bytes (at most its listed size plus one) and their SHA-256, or why it
    /// could not be read.
    struct File {
        let bytes: [UInt8]
        let sha256: String
    }

    static let maxSize: Int64 = 256 << 10
    static let budget = 8 << 20
    /// What a file counts against the budget beyond its bytes, so that thousands of empty files
    /// are not all held at once.
    private static let overhead = 4096

    private let files: [SourceFile]
    private let condition = NSCondition()
    // Guarded by `condition`:
    private var ready: [Int: Result<File, any Error>] = [:]
    private var held = 0
    private var cancelled = false
    private var running = true
    /// Which side waits for the other, so that a hand-over wakes a thread only when one waits:
    /// the caller for the file it asked for, the reader for the budget to fall to half.
    private var callerWaits: Int?
    private var readerWaits = false

    init(files: [SourceFile]) {
        self.files = files
        guard files.contains(where: { $0.size <= Self.maxSize }) else {
            running = false
            return
        }
        let thread = Thread { [self] in readAhead() }
        thread.name = "modelpack.prefetch"
        thread.start()
    }

    deinit {
        condition.lock()
        cancelled = true
        condition.broadcast()
        while running { condition.wait() }
        condition.unlock()
    }

    /// The file at `index` of the list, once read (waits for it); nil when it is too large to be
    /// read ahead. Each index is taken at most once, in any order.
    func take(_ index: Int) throws -> File? {
        guard files[index].size <= Self.maxSize else { return nil }
        condition.lock()
        defer { condition.unlock() }
        while ready[index] == nil {
            callerWaits = index
            condition.wait()
        }
        callerWaits = nil
        let result = ready.removeValue(forKey: index)!
        held -= Self.cost(files[index])
        if readerWaits && held <= Self.budget / 2 { condition.broadcast() }
        return try result.get()
    }

    private static func cost(_ file: SourceFile) -> Int { Int(file.size) + overhead }

    private func readAhead() {
        defer {
            condition.lock()
            running = false
            condition.broadcast()
            condition.unlock()
        }
        for (index, file) in files.enumerated() where file.size <= Self.maxSize {
            condition.lock()
            // Past the budget, wait until the caller has taken half of it (one file is always
            // allowed, whatever its size, so that the caller is never starved).
            if held > 0 && held + Self.cost(file) > Self.budget {
                while !cancelled && held > Self.budget / 2 {
                    readerWaits = true
                    condition.wait()
                }
                readerWaits = false
            }
            let stop = cancelled
            if !stop { held += Self.cost(file) }
            condition.unlock()
            if stop { return }
            let result = Result { try Self.read(file) }
            condition.lock()
            ready[index] = result
            if callerWaits == index { condition.broadcast() }
            condition.unlock()
        }
    }

    private static func read(_ file: SourceFile) throws -> File {
        let input = try InputFile(path: file.absolutePath)
        // One byte more than listed, so that a file that grew is seen. A read that stops short
        // exactly at the listed size has met the end of the file as it stands: no second read to
        // be told so (a read stops short of what was asked only at the end of a regular file).
        let size = Int(file.size)
        var bytes = [UInt8](repeating: 0, count: size + 1)
        var count = 0
        try bytes.withUnsafeMutableBytes { buffer in
            while count < buffer.count {
                let n = try input.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[count...]))
                if n == 0 { break }
                count += n
                if count == size { break }
            }
        }
        bytes.removeLast(bytes.count - count)
        var stream = SHA256Stream()
        bytes.withUnsafeBytes { stream.update($0) }
        return File(bytes: bytes, sha256: stream.finalizeHex())
    }
}
