import Glibc
import SystemPackage
import Testing

/// A close-on-exec, non-blocking pipe for the QGASystem tests.
func nonBlockingPipe() throws -> (reader: FileDescriptor, writer: FileDescriptor) {
    try FileDescriptor.closeOnExecPipe(nonBlocking: true)
}

/// Pipes with a byte waiting in each, so that all their read ends are ready in one pass of
/// an event loop. `close()` closes both ends of every pipe.
struct ReadyPipes {
    let readers: [FileDescriptor]
    private let writers: [FileDescriptor]

    init(count: Int) throws {
        var readers: [FileDescriptor] = []
        var writers: [FileDescriptor] = []
        for _ in 0..<count {
            let (reader, writer) = try nonBlockingPipe()
            readers.append(reader)
            writers.append(writer)
            try writer.writeFully([1])
        }
        self.readers = readers
        self.writers = writers
    }

    func close() {
        for fd in readers + writers { try? fd.close() }
    }
}
