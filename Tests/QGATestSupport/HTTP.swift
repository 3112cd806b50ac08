import Foundation
import Glibc

// HTTP, just enough for tests to talk to qga-exporter and Prometheus.

public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names in lower case.
    public var headers: [String: String]
    public var body: [UInt8]
    /// How long the request took, connect to last byte.
    public var seconds: Double
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// GET `path` from 127.0.0.1:`port` (HTTP/1.1, Connection: close), within `timeout` seconds.
public func httpGet(port: Int, _ path: String, timeout: Double = 10) throws -> HTTPResponse {
    let started = Date()
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw POSIXError(.init(rawValue: errno) ?? .ECONNREFUSED) }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n".utf8)
    var sent = 0
    while sent < request.count {
        let wrote = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if wrote < 0 && errno == EINTR { continue }
        guard wrote > 0 else { throw POSIXError(.init(rawValue: errno) ?? .EPIPE) }
        sent += wrote
    }

    let deadline = Date().addingTimeInterval(timeout)
    var received: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    var head: (status: Int, headers: [String: String], bodyStart: Int)?
    while true {
        if head == nil, let end = received.firstRange(of: Array("\r\n\r\n".utf8)) {
            let lines = String(decoding: received[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
            let status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
            var headers: [String: String] = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            head = (status, headers, end.upperBound)
        }
        // Done when Content-Length bytes are in; otherwise at end of stream.
        if let head, let length = head.headers["content-length"].flatMap(Int.init), received.count - head.bodyStart >= length {
            break
        }
        let left = deadline.timeIntervalSinceNow
        guard left > 0 else { throw MissingTool("GET \(path) on port \(port): no complete answer within \(timeout) s") }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, Int32(left * 1000) + 1) > 0 else { continue }
        let got = read(fd, &chunk, chunk.count)
        if got < 0 && errno == EINTR { continue }
        guard got > 0 else { break }
        received += chunk[0..<got]
    }
    guard let head else { throw MissingTool("GET \(path) on port \(port): no HTTP header in \(received.count) bytes") }
    var body = Array(received[head.bodyStart...])
    if head.headers["transfer-encoding"]?.lowercased() == "chunked" { body = try dechunked(body) }
    return HTTPResponse(status: head.status, headers: head.headers, body: body, seconds: Date().timeIntervalSince(started))
}

/// A chunked body's data.
private func dechunked(_ bytes: [UInt8]) throws -> [UInt8] {
    var out: [UInt8] = []
    var index = 0
    while let lineEnd = bytes[index...].firstRange(of: Array("\r\n".utf8)) {
        let sizeText = String(decoding: bytes[index..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
        guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { break }
        if size == 0 { return out }
        let start = lineEnd.upperBound
        guard start + size <= bytes.count else { break }
        out += bytes[start..<start + size]
        index = start + size + 2
        guard index <= bytes.count else { break }
    }
    throw MissingTool("a chunked HTTP body ended early")
}

