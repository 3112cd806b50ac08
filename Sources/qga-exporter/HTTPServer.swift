import NIOCore
import NIOHTTP1
import NIOPosix
import QGAExporter

/// The HTTP side: GET of the telemetry path renders the store, / is a short page,
/// /-/healthy says OK; all on one event loop thread, as rendering never waits on an agent.
enum HTTPServer {
    /// How long a connection may send nothing before it is closed (Prometheus scrapes
    /// every 15 s or so and reconnects when its keep-alive connection was closed).
    static let idleTimeout: TimeAmount = .seconds(60)

    static func start(
        group: MultiThreadedEventLoopGroup, address: ListenAddress, telemetryPath: String, store: SnapshotStore
    ) throws -> Channel {
        let renderer = Renderer()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline(withErrorHandling: true).flatMapThrowing {
                    // A client that sends nothing for a while is let go: an idle connection
                    // holds a descriptor, and a slow or stuck one must not hold it for good.
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: HTTPServer.idleTimeout), position: .first)
                    try channel.pipeline.syncOperations.addHandler(HTTPHandler(telemetryPath: telemetryPath, store: store, renderer: renderer))
                }
            }
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
        guard address.host.isEmpty else { return try bootstrap.bind(host: address.host, port: address.port).wait() }
        // Every interface: IPv6's any address takes IPv4 too, where the host has IPv6 at all.
        do {
            return try bootstrap.bind(host: "::", port: address.port).wait()
        } catch {
            return try bootstrap.bind(host: "0.0.0.0", port: address.port).wait()
        }
    }
}

final class HTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let telemetryPath: String
    private let store: SnapshotStore
    private let renderer: Renderer
    private var request: HTTPRequestHead?

    init(telemetryPath: String, store: SnapshotStore, renderer: Renderer) {
        self.telemetryPath = telemetryPath
        self.store = store
        self.renderer = renderer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): request = head
        case .body: break
        case .end:
            guard let head = request else { return }
            request = nil
            respond(to: head, context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? head.uri
        guard head.method == .GET || head.method == .HEAD else {
            send(.methodNotAllowed, "text/plain; charset=utf-8", Array("Method not allowed\n".utf8), head: head, context: context)
            return
        }
        switch path {
        case telemetryPath:
            var bytes: [UInt8] = []
            renderer.render(store, into: &bytes)
            send(.ok, "text/plain; version=0.0.4; charset=utf-8", bytes, head: head, context: context)
        case "/":
            let page = """
                <html><head><title>qga-exporter</title></head><body>
                <h1>qga-exporter</h1>
                <p>What the guest agents know, as Prometheus metrics: <a href="\(telemetryPath)">\(telemetryPath)</a></p>
                </body></html>

                """
            send(.ok, "text/html; charset=utf-8", Array(page.utf8), head: head, context: context)
        case "/-/healthy":
            send(.ok, "text/plain; charset=utf-8", Array("OK\n".utf8), head: head, context: context)
        default:
            send(.notFound, "text/plain; charset=utf-8", Array("Not found\n".utf8), head: head, context: context)
        }
    }

    private func send(
        _ status: HTTPResponseStatus, _ contentType: String, _ body: [UInt8], head: HTTPRequestHead,
        context: ChannelHandlerContext
    ) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.count))
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
