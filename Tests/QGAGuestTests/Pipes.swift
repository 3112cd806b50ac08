import Glibc
import SystemPackage
import Testing

/// A close-on-exec, non-blocking pipe for the QGASystem tests.
func nonBlockingPipe() throws -> (reader: FileDescriptor, writer: FileDescriptor) {
    var ends: [Int32] = [-1, -1]
    try #require(pipe(&ends) == 0)
    for fd in ends {
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(fd, F_SETFL, O_NONBLOCK)
    }
    return (FileDescriptor(rawValue: ends[0]), FileDescriptor(rawValue: ends[1]))
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
