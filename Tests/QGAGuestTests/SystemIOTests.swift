import Glibc
import QGASystem
import SystemPackage
import Testing

/// QGASystem's one write loop, read, unix-address builder, wait-status decoder and spawn,
/// which qgad, qga and the client all go through.
@Suite struct SystemIOTests {
    @Test func writeAvailableStopsWhereAFullPipeWouldBlock() throws {
        let (reader, writer) = try nonBlockingPipe()
        defer { try? reader.close(); try? writer.close() }
        let bytes = [UInt8](repeating: 0x61, count: 4 << 20)
        let written = try bytes.withUnsafeBytes { try writer.writeAvailable($0) }
        #expect(written > 0 && written < bytes.count)
        #expect(throws: SystemError("write", .resourceTemporarilyUnavailable)) { try writer.writeFully([1]) }
    }

    @Test func readAvailableTellsNothingYetFromEndOfFile() throws {
        let (reader, writer) = try nonBlockingPipe()
        defer { try? reader.close() }
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(try buffer.withUnsafeMutableBytes { try reader.readAvailable(into: $0) } == nil)
        try writer.writeFully(Array("ping".utf8))
        #expect(try buffer.withUnsafeMutableBytes { try reader.readAvailable(into: $0) } == 4)
        #expect(buffer.prefix(4) == Array("ping".utf8)[...])
        try writer.close()
        #expect(try buffer.withUnsafeMutableBytes { try reader.readAvailable(into: $0) } == 0)
    }

    @Test func unixAddressRefusesAPathThatDoesNotFit() throws {
        _ = try UnixAddress(String(repeating: "a", count: 107))
        #expect(throws: SystemError("bind", .fileNameTooLong, subject: String(repeating: "a", count: 108))) {
            try UnixAddress(String(repeating: "a", count: 108), operation: "bind")
        }
    }

    @Test func deadlinesFromAnySecondsDoNotTrap() {
        // Each of these trapped converting to Int64 milliseconds, or multiplying by 1000.
        #expect(Deadline.after(seconds: .infinity).pollMilliseconds == .max)
        #expect(Deadline.after(seconds: 1e300).pollMilliseconds == .max)
        #expect(Deadline.after(seconds: -.infinity).hasPassed)
        #expect(Deadline.after(seconds: .nan).pollMilliseconds == 0)
        #expect(Deadline(.now.advanced(by: .seconds(Int64.max))).pollMilliseconds == .max)
        #expect(Deadline.after(seconds: 1.5).pollMilliseconds > 1000)
    }

    @Test func waitStatusDecodes() {
        #expect(ChildStatus(waitStatus: 0) == .exited(0))
        #expect(ChildStatus(waitStatus: 3 << 8) == .exited(3))
        #expect(ChildStatus(waitStatus: SIGKILL) == .signaled(SIGKILL))
        #expect(ChildStatus(waitStatus: SIGSEGV | 0x80) == .signaled(SIGSEGV))  // core dumped
        #expect(ChildStatus.signaled(SIGTERM).shellStatus == 128 + SIGTERM)
    }

    @Test func spawnSearchesPathAndReportsTheExitStatus() throws {
        let pid = try spawnProcess(["sh", "-c", "exit 7"])
        #expect(try reapChild(pid, blocking: true) == .exited(7))
        #expect(throws: SystemError("spawn", .noSuchFileOrDirectory, subject: "qga-no-such-program")) {
            try spawnProcess(["qga-no-such-program"])
        }
    }

    @Test func aScriptWithoutInterpreterLineRunsByShellOnlyWhenAsked() throws {
        let path = "/tmp/qga-script-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let file = try FileDescriptor.open(
            path, .writeOnly, options: [.create, .exclusiveCreate, .closeOnExec], permissions: .ownerReadWriteExecute)
        defer { unlink(path) }
        try file.writeFully(Array("exit 5\n".utf8))
        try file.close()
        #expect(throws: SystemError("spawn", .execFormatError, subject: path)) { try spawnProcess([path]) }
        var options = SpawnOptions()
        options.shellForScripts = true
        options.stdout = .null
        let pid = try spawnProcess([path], options)
        #expect(try reapChild(pid, blocking: true) == .exited(5))
    }
}
