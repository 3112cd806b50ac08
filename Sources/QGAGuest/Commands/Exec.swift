import Glibc
import QGAProtocol
import QGASystem
import SystemPackage

/// A process started by guest-exec, with what it has written so far.
final class TrackedProcess {
    let pid: pid_t
    var stdinFD: Int32?
    var pendingInput: [UInt8]
    /// How much of `pendingInput` the child has taken: advancing an offset instead of
    /// removing what was written keeps a large input-data linear.
    var inputWritten = 0
    var stdoutFD: Int32?
    var stderrFD: Int32?
    var out: [UInt8] = []
    var err: [UInt8] = []
    var outTruncated = false
    var errTruncated = false
    let captureOut: Bool
    let captureErr: Bool
    var status: ChildStatus?

    init(pid: pid_t, stdin: Int32?, input: [UInt8], stdout: Int32?, stderr: Int32?, captureOut: Bool, captureErr: Bool) {
        self.pid = pid
        stdinFD = stdin
        pendingInput = input
        stdoutFD = stdout
        stderrFD = stderr
        self.captureOut = captureOut
        self.captureErr = captureErr
    }

    /// Done when it has exited and its output pipes are drained.
    var isFinished: Bool { status != nil && stdoutFD == nil && stderrFD == nil }
}

/// guest-exec's processes. Bounded: at most `maxTracked` entries (an entry goes once its
/// final status has been read) and `maxOutput` bytes kept per stream, as in qemu-ga.
struct ProcessTable {
    static let maxTracked = 64
    static let maxOutput = 16 << 20
    var entries: [pid_t: TrackedProcess] = [:]
}

extension GuestAgent {
    /// The exec family: each handler with its catalogue entry.
    static let execHandlers: [Handler] = [
        Handler(Catalogue.Commands.guestExec, guestExec),
        Handler(Catalogue.Commands.guestExecStatus, guestExecStatus),
    ]

    /// Descriptors the server loop watches for guest-exec's processes.
    func processDescriptors() -> [pollfd] {
        var fds: [pollfd] = []
        for process in processes.entries.values {
            for fd in [process.stdoutFD, process.stderrFD].compactMap({ $0 }) {
                fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
            }
            if let fd = process.stdinFD { fds.append(pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)) }
        }
        return fds
    }

    /// Moves data for every process whose pipes are ready, and reaps those that ended.
    func serviceProcesses() {
        for process in processes.entries.values {
            pumpInput(process)
            drain(process)
            reap(process)
        }
    }

    /// Reaps this one child if it has exited; never waitpid(-1), which would steal the
    /// children of other code (shutdown, hooks).
    func reap(_ process: TrackedProcess) {
        guard process.status == nil else { return }
        process.status = (try? reapChild(process.pid)) ?? nil
    }

    func pumpInput(_ process: TrackedProcess) {
        guard let fd = process.stdinFD else { return }
        let written = process.pendingInput.withUnsafeBytes { bytes in
            try? FileDescriptor(rawValue: fd).writeAvailable(UnsafeRawBufferPointer(rebasing: bytes[process.inputWritten...]))
        }
        if let written {
            process.inputWritten += written
            // The child takes no more now: the rest waits for POLLOUT.
            if process.inputWritten < process.pendingInput.count { return }
        }
        process.pendingInput = []
        close(fd)
        process.stdinFD = nil
    }

    /// Reads what the pipes hold now; keeps at most maxOutput bytes per stream.
    func drain(_ process: TrackedProcess) {
        var chunk = [UInt8](repeating: 0, count: 65536)
        func pull(_ fd: inout Int32?, _ buffer: inout [UInt8], _ truncated: inout Bool) {
            guard let descriptor = fd else { return }
            while true {
                let got = chunk.withUnsafeMutableBytes { raw in
                    Result { () throws(SystemError) in try FileDescriptor(rawValue: descriptor).readAvailable(into: raw) }
                }
                if case .success(let n?) = got, n > 0 {
                    let room = ProcessTable.maxOutput - buffer.count
                    if n > room { truncated = true }
                    if room > 0 { buffer += chunk[0..<min(n, room)] }
                    continue
                }
                // Nothing more now (EAGAIN): the rest comes at the next POLLIN.
                if case .success(nil) = got { return }
                // End of the stream, or an error.
                close(descriptor)
                fd = nil
                return
            }
        }
        pull(&process.stdoutFD, &process.out, &process.outTruncated)
        pull(&process.stderrFD, &process.err, &process.errTruncated)
    }
}

private func guestExec(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    let path = try args.string("path")
    let argv = [path] + (try args.optionalStrings("arg") ?? [])
    let env = try args.optionalStrings("env")
    var input: [UInt8] = []
    if let data = try args.optionalString("input-data") {
        guard let decoded = Base64.decode(data) else { throw AgentError.generic("Base64 data contains invalid characters") }
        input = decoded
    }
    let (captureOut, captureErr, merged) = try captureMode(args.raw("capture-output"))
    guard agent.processes.entries.count < ProcessTable.maxTracked else {
        throw AgentError.generic("too many guest-exec processes (\(ProcessTable.maxTracked)) not yet collected with guest-exec-status")
    }
    var opened: [Int32] = []
    func makePipe() throws -> (Int32, Int32) {
        let ends: (reader: FileDescriptor, writer: FileDescriptor)
        do { ends = try FileDescriptor.closeOnExecPipe() } catch { throw AgentError.generic("pipe: \(FileSystem.strerror(error.errno.rawValue))") }
        opened += [ends.reader.rawValue, ends.writer.rawValue]
        return (ends.reader.rawValue, ends.writer.rawValue)
    }
    do {
        let stdinPipe = args.has("input-data") ? try makePipe() : nil
        let outPipe = captureOut ? try makePipe() : nil
        let errPipe = captureErr && !merged ? try makePipe() : nil
        let pid = try spawn(
            argv, environment: env, stdin: stdinPipe?.0, stdout: outPipe?.1,
            stderr: merged ? outPipe?.1 : errPipe?.1)
        for end in [stdinPipe?.0, outPipe?.1, errPipe?.1].compactMap({ $0 }) { close(end) }
        for end in [stdinPipe?.1, outPipe?.0, errPipe?.0].compactMap({ $0 }) { _ = fcntl(end, F_SETFL, O_NONBLOCK) }
        let process = TrackedProcess(
            pid: pid, stdin: stdinPipe?.1, input: input, stdout: outPipe?.0, stderr: errPipe?.0,
            captureOut: captureOut, captureErr: captureErr && !merged)
        agent.processes.entries[pid] = process
        agent.pumpInput(process)
        return ["pid": .int(pid)]
    } catch {
        for fd in opened { close(fd) }
        throw error
    }
}

private func guestExecStatus(_ agent: GuestAgent, _ args: Arguments) throws -> JSONValue {
    let pid = try args.int("pid")
    guard let process = agent.processes.entries[pid_t(truncatingIfNeeded: pid)], Int64(process.pid) == pid else {
        throw AgentError.generic("Invalid parameter 'pid'")
    }
    agent.reap(process)
    agent.drain(process)
    guard process.isFinished, let status = process.status else { return ["exited": false] }
    agent.processes.entries[process.pid] = nil
    var result: JSONObject = ["exited": true]
    switch status {
    case .exited(let code): result.append(key: "exitcode", value: .int(code))
    case .signaled(let signal): result.append(key: "signal", value: .int(signal))
    }
    // qemu-ga sends a stream's data and its truncation flag only when it has data.
    if !process.out.isEmpty {
        result.append(key: "out-data", value: .string(Base64.encode(process.out)))
        result.append(key: "out-truncated", value: .bool(process.outTruncated))
    }
    if !process.err.isEmpty {
        result.append(key: "err-data", value: .string(Base64.encode(process.err)))
        result.append(key: "err-truncated", value: .bool(process.errTruncated))
    }
    return .object(result)
}

/// capture-output, checked against the schema: a boolean (true means separated) or a mode
/// name (QEMU 8.0).
private func captureMode(_ value: JSONValue?) throws -> (out: Bool, err: Bool, merged: Bool) {
    switch value {
    case nil, .bool(false), .string("none"): return (false, false, false)
    case .bool(true), .string("separated"): return (true, true, false)
    case .string("stdout"): return (true, false, false)
    case .string("stderr"): return (false, true, false)
    case .string("merged"): return (true, true, true)
    // Unreachable: the schema check let through only a bool or a GuestExecCaptureOutputMode.
    default: throw AgentError.generic("Invalid parameter type for 'capture-output', expected: GuestExecCaptureOutput")
    }
}
