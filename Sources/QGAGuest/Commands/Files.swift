import Glibc
import QGAProtocol
import QGASystem
import SystemPackage

/// Open guest-file handles. Bounded: a client that never closes cannot exhaust the agent.
struct FileTable {
    static let maxOpen = 128
    /// qemu-ga's largest read: 48 MiB, so that the base64 reply stays under 64 MiB.
    static let maxReadCount: Int64 = 48 << 20

    /// qemu-ga's first handle, and where the numbering starts again after `Int64.max`.
    static let firstHandle: Int64 = 1000

    /// The next handle to hand out.
    var counter: Int64 = firstHandle
    var open: [Int64: Int32] = [:]
    /// What guest-file-read reads into and guest-file-write decodes into, kept while any
    /// file is open: a copy moves chunk after chunk, and a fresh megabyte each time costs
    /// the guest's kernel a page fault per page.
    var scratch: ScratchBuffer?
    /// The largest buffer kept between requests (copies move 1 MiB chunks, or less through
    /// libvirt); a larger request gets a buffer of its own, freed with its reply.
    static let keptBufferLimit = 8 << 20

    /// A buffer of at least `count` bytes: the kept one, grown if need be.
    mutating func scratch(_ count: Int) -> ScratchBuffer {
        if let scratch, scratch.bytes.count >= count { return scratch }
        let grown = ScratchBuffer(count: count)
        if count <= FileTable.keptBufferLimit { scratch = grown }
        return grown
    }

    /// Takes the next free handle number. The counter comes from a state file, so it may
    /// be anything up to `Int64.max`: past that it wraps to `firstHandle` (qemu-ga aborts),
    /// skipping handles still open.
    mutating func nextHandle() -> Int64 {
        while true {
            let handle = counter
            counter = handle < Int64.max ? handle + 1 : FileTable.firstHandle
            if open[handle] == nil { return handle }
        }
    }
}

/// Bytes that are always written (by read(2), or a coder) before they are read, so their
/// pages are not touched, let alone zeroed, before they are needed.
final class ScratchBuffer {
    let bytes: UnsafeMutableRawBufferPointer

    init(count: Int) { bytes = .allocate(byteCount: count, alignment: 16) }

    deinit { bytes.deallocate() }
}

extension GuestAgent {
    /// The file family: each handler with its catalogue entry.
    static let fileHandlers: [Handler] = [
        Handler(Catalogue.Commands.guestFileOpen, guestFileOpen),
        Handler(Catalogue.Commands.guestFileClose, guestFileClose),
        Handler(Catalogue.Commands.guestFileRead, returning: guestFileRead),
        Handler(Catalogue.Commands.guestFileWrite, guestFileWrite),
        Handler(Catalogue.Commands.guestFileSeek, guestFileSeek),
        Handler(Catalogue.Commands.guestFileFlush, guestFileFlush),
    ]

    func fileHandle(_ args: Arguments) throws -> (Int64, Int32) {
        let handle = try args.int("handle")
        guard let fd = files.open[handle] else { throw AgentError.generic("handle '\(handle)' has not been found") }
        return (handle, fd)
    }
}

private func guestFileOpen(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    let path = try args.string("path")
    let mode = try args.optionalString("mode") ?? "r"
    guard agent.files.open.count < FileTable.maxOpen else {
        throw AgentError.generic("too many open files (\(FileTable.maxOpen)); close some with guest-file-close")
    }
    guard let flags = openFlags(mode) else { throw AgentError.generic("invalid file open mode '\(mode)'") }
    // O_NONBLOCK: reading a FIFO must not hang the agent. O_NOCTTY: a terminal opened
    // here must not become qgad's controlling terminal (^C on it would stop qgad).
    // New files are 0644 whatever qgad's umask (qemu-ga: 0666, world-writable).
    let old = umask(0)
    let fd = retryingEINTR { Glibc.open(path, flags | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0o644) }
    umask(old)
    guard fd >= 0 else {
        throw AgentError.generic("failed to open file '\(path)' (mode: '\(mode)'): \(FileSystem.strerror(errno))")
    }
    let handle = agent.files.nextHandle()
    agent.files.open[handle] = fd
    agent.saveHandleCounter()
    return .int(handle)
}

private func guestFileClose(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    let (handle, fd) = try agent.fileHandle(args)
    agent.files.open[handle] = nil
    if agent.files.open.isEmpty {
        agent.files.scratch = nil
        agent.replyBuffer = nil
    }
    guard close(fd) == 0 || errno == EINTR else { throw AgentError.generic("failed to close handle: \(FileSystem.strerror(errno))") }
    return [:]
}

private func guestFileRead(_ agent: GuestAgent, _ args: Arguments) throws -> Handler.Return {
    let (_, fd) = try agent.fileHandle(args)
    let count = try args.optionalInt("count") ?? 4096
    guard count >= 0, count <= FileTable.maxReadCount else {
        throw AgentError.generic("value '\(count)' is invalid for argument count")
    }
    let buffer = agent.files.scratch(Int(count))
    var readError: Int32 = 0
    var eof = false
    let got = { (storage: UnsafeMutableRawBufferPointer) in
        var got = 0
        while got < Int(count) {
            let rest = UnsafeMutableRawBufferPointer(rebasing: storage[got..<Int(count)])
            let n: Int
            do throws(SystemError) {
                // nil: a non-blocking file (a FIFO) has nothing more now.
                guard let available = try FileDescriptor(rawValue: fd).readAvailable(into: rest) else { break }
                n = available
            } catch {
                readError = error.errno.rawValue
                break
            }
            if n == 0 {
                eof = true
                break
            }
            got += n
        }
        return got
    }(buffer.bytes)
    if readError != 0 { throw AgentError.generic("failed to read file: \(FileSystem.strerror(readError))") }
    if count == 0 { eof = false }
    // {"count": N, "buf-b64": "...", "eof": B}, as the printer lays out the object.
    return .encoded(
        EncodedReturn(
            before: Array(#"{"count": \#(got), "buf-b64": ""#.utf8), payload: UnsafeRawBufferPointer(rebasing: buffer.bytes[..<got]), owner: buffer,
            after: Array(#"", "eof": \#(eof)}"#.utf8)))
}

private func guestFileWrite(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    let (_, fd) = try agent.fileHandle(args)
    var text = try args.string("buf-b64")
    let buffer = agent.files.scratch(Base64.decodedCapacity(text.utf8.count))
    guard let decoded = text.withUTF8({ Base64.decode(UnsafeRawBufferPointer($0), into: buffer.bytes) }) else {
        throw AgentError.generic("Base64 data contains invalid characters")
    }
    let count = try args.optionalInt("count") ?? Int64(decoded)
    guard count >= 0, count <= Int64(decoded) else {
        throw AgentError.generic("value '\(count)' is invalid for argument count")
    }
    // A non-blocking file (a FIFO) may take only part: the count says how much.
    let written: Int
    do throws(SystemError) {
        written = try FileDescriptor(rawValue: fd).writeAvailable(UnsafeRawBufferPointer(rebasing: buffer.bytes[..<Int(count)]))
    } catch {
        throw AgentError.generic("failed to write to file: \(FileSystem.strerror(error.errno.rawValue))")
    }
    return ["count": .int(written), "eof": false]
}

private func guestFileSeek(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    let (_, fd) = try agent.fileHandle(args)
    let offset = try args.int("offset")
    let whence: Int32
    switch args.raw("whence") {
    case .string("set"): whence = SEEK_SET
    case .string("cur"): whence = SEEK_CUR
    case .string("end"): whence = SEEK_END
    case .number(let n):
        guard let code = n.int, (0...2).contains(code) else { throw AgentError.generic("invalid whence code \(n.text)") }
        whence = Int32(code)
    // Unreachable: the schema check let through only an integer or a QGASeek name.
    default: throw AgentError.generic("Invalid parameter type for 'whence', expected: GuestFileWhence")
    }
    let position = lseek(fd, off_t(offset), whence)
    guard position >= 0 else { throw AgentError.generic("failed to seek file: \(FileSystem.strerror(errno))") }
    return ["position": .int(position), "eof": false]
}

private func guestFileFlush(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    // Writes go straight to the descriptor; nothing is buffered in the agent.
    _ = try agent.fileHandle(args)
    return [:]
}

/// fopen(3) modes as open(2) flags.
func openFlags(_ mode: String) -> Int32? {
    switch mode.replacingB() {
    case "r": return O_RDONLY
    case "r+": return O_RDWR
    case "w": return O_WRONLY | O_CREAT | O_TRUNC
    case "w+": return O_RDWR | O_CREAT | O_TRUNC
    case "a": return O_WRONLY | O_CREAT | O_APPEND
    case "a+": return O_RDWR | O_CREAT | O_APPEND
    default: return nil
    }
}

extension String {
    /// The mode without its 'b' (binary means nothing on Linux): "rb+" and "r+b" → "r+".
    fileprivate func replacingB() -> String { String(self.filter { $0 != "b" }) }
}
