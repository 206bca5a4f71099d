import Dispatch

/// SHA-256 on its own thread beside the reader and the writer, through a ring of fixed buffers,
/// so that hashing (a core's worth: about 0.55 s per GiB here, with SHA-NI) overlaps the I/O
/// instead of adding to it, and memory stays constant (`slots` x `StreamBuffer.size`).
///
/// One stream at a time: `begin`, then for each chunk `buffer()` (fill it) and `submit(n)`, then
/// `finish()`. A buffer stays readable by the caller until its next `buffer()` call; the hasher
/// only reads it. A stream that fits in one buffer is hashed on the caller's thread: a hand-over
/// costs more than hashing a small file (5,000 files of 2 KiB would pay it 5,000 times).
final class ParallelSHA256: @unchecked Sendable {
    // State shared with the hashing thread: `stream` is touched only on `queue` while a threaded
    // stream runs; the slots are handed over by `free` (released once hashed).
    private let queue = DispatchQueue(label: "modelpack.sha256")
    private let slots: Int
    private let free: DispatchSemaphore
    private let storage: UnsafeMutableRawBufferPointer
    private var stream = SHA256Stream()
    private var threaded = false
    private var nextSlot = 0
    private var held: Int?

    init(slots: Int = 4) {
        self.slots = slots
        free = DispatchSemaphore(value: slots)
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: slots * StreamBuffer.size, alignment: 64)
    }

    deinit {
        queue.sync {}  // nothing may still read the storage
        // A buffer taken and never submitted (a stream abandoned by an error) goes back first:
        // libdispatch traps on a semaphore released below its initial value.
        if held != nil { free.signal() }
        storage.deallocate()
    }

    private func slot(_ i: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: storage[(i * StreamBuffer.size)..<((i + 1) * StreamBuffer.size)])
    }

    /// Starts a stream of about `expectedSize` bytes (only used to choose where it is hashed).
    func begin(expectedSize: Int64) {
        if threaded { queue.sync {} }
        threaded = expectedSize > Int64(StreamBuffer.size)
        stream = SHA256Stream()
    }

    /// A free buffer to fill (waits while the hasher still reads every buffer). The same buffer
    /// again until it is submitted.
    func buffer() -> UnsafeMutableRawBufferPointer {
        if let held { return slot(held) }
        free.wait()
        let i = nextSlot
        nextSlot = (nextSlot + 1) % slots
        held = i
        return slot(i)
    }

    /// Hands the first `count` bytes of the buffer last returned by `buffer()` to the hasher.
    func submit(_ count: Int) {
        guard let i = held else { return }
        held = nil
        guard threaded else { return hash(slot: i, count) }
        // Not a strong reference: the last release would then run deinit on `queue` itself, whose
        // `queue.sync` would wait for itself. deinit waits for every block before freeing anything.
        queue.async { [unowned(unsafe) self] in hash(slot: i, count) }
    }

    private func hash(slot i: Int, _ count: Int) {
        stream.update(UnsafeRawBufferPointer(rebasing: slot(i)[0..<count]))
        free.signal()
    }

    /// Waits for every submitted chunk; the stream's byte count and hex digest.
    func finish() -> (byteCount: Int64, hex: String) {
        if held != nil {
            held = nil
            free.signal()
        }
        if threaded { queue.sync {} }
        return (stream.byteCount, stream.finalizeHex())
    }
}
