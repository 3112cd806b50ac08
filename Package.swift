// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "qga",
    products: [
        .executable(name: "qga", targets: ["qga"]),
        .executable(name: "qgad", targets: ["qgad"]),
        .executable(name: "qga-exporter", targets: ["qga-exporter"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        // qga-exporter only (qga and qgad must not depend on them).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // Layer 1: the wire protocol, no I/O and no Foundation (the guest daemon shares it,
        // and its memory footprint is measured against qemu-ga's).
        .target(name: "QGAProtocol"),

        // Layer 2: thin POSIX wrappers with deadlines; EINTR retried, operations named.
        .target(
            name: "QGASystem",
            dependencies: ["CQGAShims", .product(name: "SystemPackage", package: "swift-system")]),

        // Only what Swift cannot import from glibc (signalfd, ioctl numbers), qga_-prefixed.
        .target(name: "CQGAShims"),

        // Layer 3: transports and the agent session (sync, deadlines, reply cap).
        .target(name: "QGAClient", dependencies: ["QGAProtocol", "QGASystem"]),

        // libvirt's C API (headers and types from libvirt-dev) through a [system] module map;
        // only QGALibvirt imports it. Nothing links libvirt: CLibvirtLoader's stubs, generated
        // by scripts/generate-libvirt-stubs, load it on first use.
        .systemLibrary(name: "CLibvirt"),
        .target(name: "CLibvirtLoader"),

        // Layer 4: libvirt domains as targets, lifecycle, fsfreeze and snapshots.
        .target(
            name: "QGALibvirt", dependencies: ["QGAClient", "QGAProtocol", "QGASystem", "CLibvirt", "CLibvirtLoader"]),

        // Layer 5: the `qga` command tree.
        .target(
            name: "QGACommands",
            dependencies: [
                "QGAClient",
                "QGALibvirt",
                "QGAProtocol",
                "QGASystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]),

        .executableTarget(name: "qga", dependencies: ["QGACommands"]),

        // The exporter's core: targets, background poller, snapshot store, metric table and
        // rendering. No NIO, so that it is tested in-process.
        .target(
            name: "QGAExporter",
            dependencies: [
                "QGAClient", "QGALibvirt", "QGAProtocol", "QGASystem",
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
        // `qga-exporter`: flags and a small HTTP server on one event loop thread.
        .executableTarget(
            name: "qga-exporter",
            dependencies: [
                "QGAExporter",
                "QGAProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]),

        // Development only: reads QEMU's qga/qapi-schema.json and writes the catalogue
        // (Sources/QGAProtocol/Catalogue+Generated.swift); run by scripts/generate-catalogue.
        .target(name: "QAPISchema", dependencies: ["QGAProtocol"]),
        .executableTarget(name: "qga-catalogue-gen", dependencies: ["QAPISchema"]),

        // The guest daemon: no Foundation, no ArgumentParser, no libvirt (its memory
        // footprint is measured against qemu-ga's).
        .target(
            name: "QGAGuest",
            dependencies: [
                "QGAProtocol", "QGASystem", "CQGAShims", .product(name: "SystemPackage", package: "swift-system"),
            ]),
        .executableTarget(name: "qgad", dependencies: ["QGAGuest"]),

        // Test support: agents on temporary sockets, a misbehaving agent, binary runners.
        .target(
            name: "QGATestSupport",
            dependencies: ["QGAProtocol", "QGASystem", .product(name: "SystemPackage", package: "swift-system")],
            path: "Tests/QGATestSupport"),
        .testTarget(name: "QGAProtocolTests", dependencies: ["QGAProtocol", "QAPISchema"]),
        // The agent session in-process: a scripted in-memory stream on virtual time.
        .testTarget(name: "QGAClientTests", dependencies: ["QGAClient", "QGAProtocol", "QGASystem"]),
        // The daemon's handlers and platform readers, in-process (fake sysfs and procfs text).
        .testTarget(
            name: "QGAGuestTests",
            dependencies: [
                "QGAGuest", "QGAProtocol", "QGASystem", "QGATestSupport",
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        .testTarget(
            name: "QGACommandsTests",
            dependencies: [
                "QGAClient", "QGACommands", "QGALibvirt", "QGAProtocol", "QGATestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // The exporter's decoding and rendering in-process, and the built binary against real agents.
        .testTarget(
            name: "QGAExporterTests",
            dependencies: ["QGAExporter", "QGAProtocol", "QGATestSupport"]),
        .testTarget(
            name: "QGAEndToEndTests",
            dependencies: ["QGAProtocol", "QGATestSupport"]),
        // The same protocol checks against Debian's qemu-ga and qgad.
        .testTarget(
            name: "QGAConformanceTests",
            dependencies: ["QGAProtocol", "QGATestSupport"]),
        // On the libvirt VM test bed (scripts/vm-testbed), run by scripts/test.
        .testTarget(
            name: "QGAVMTests",
            dependencies: ["QGAProtocol", "QGATestSupport"]),
    ]
)

// libFuzzer targets (Fuzz/), declared only for scripts/fuzz, which sets QGA_FUZZ=1 and builds
// them instrumented for libFuzzer and ASan in its own scratch directory: libFuzzer
// supplies their main(), so an ordinary `swift build` could not link them, and leaving them
// out keeps it as fast as before.
if Context.environment["QGA_FUZZ"] == "1" {
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("FuzzProtocol", ["QGAProtocol"]),
        ("FuzzClient", ["QGAClient", "QGAProtocol", "QGASystem"]),
        ("FuzzPrinter", ["QGAProtocol"]),
        ("FuzzDispatcher", ["QGAGuest", "QGAProtocol"]),
        ("FuzzConfig", ["QGAGuest", .product(name: "SystemPackage", package: "swift-system")]),
    ]
    // What the targets share: how a broken invariant stops the fuzzer.
    package.targets.append(.target(name: "FuzzSupport", path: "Fuzz/FuzzSupport"))
    for target in fuzzTargets {
        package.targets.append(
            .executableTarget(
                name: target.name, dependencies: target.dependencies + ["FuzzSupport"], path: "Fuzz/\(target.name)",
                swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
        package.products.append(.executable(name: target.name, targets: [target.name]))
    }
}
