import Glibc
import QGAGuest
import SystemPackage
import FuzzSupport

/// qgad's command-line and config-file parsers: NUL-terminated arguments up to an empty
/// one, then the config file's bytes (the arguments are given `-c FILE` first).
///
/// Invariants: parsing never traps; a config that parses, dumped as `-D` prints it and read
/// back, gives the same settings.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = input(data, size)
    var arguments: [String] = []
    var rest = bytes[...]
    while let end = rest.firstIndex(of: 0) {
        let word = rest[..<end]
        rest = rest[(end + 1)...]
        if word.isEmpty { break }
        arguments.append(String(decoding: word, as: UTF8.self))
    }
    guard write(file, Array(rest)) else { fail("cannot write \(file)") }
    let parsed = try? parseCommandLine(["-c", file] + arguments, environment: { _ in nil }, warn: { _ in })
    guard let (config, action) = parsed, action == .run || action == .dumpConfig else { return 0 }
    // An allow list from the file with a block list from the command line is a valid
    // config (as in qemu-ga), but no file holds both: it does not read back by design.
    if !config.allowRPCs.isEmpty && !config.blockRPCs.isEmpty { return 0 }

    // Read back what -D prints.
    guard write(file, Array(config.dump.utf8)) else { fail("cannot write \(file)") }
    do {
        let (again, _) = try parseCommandLine(["-c", file], environment: { _ in nil }, warn: { _ in })
        check(Settings(again) == Settings(config), "-D output reads back as \(again), not \(config):\n\(config.dump)")
    } catch {
        fail("-D output does not read back (\(error)):\n\(config.dump)")
    }
    return 0
}

/// What a config means: the channel path rather than how it was given, and the lists'
/// items that can be command names.
private struct Settings: Equatable {
    var daemonize: Bool
    var method: Config.Method
    var channelPath: String?
    var logfile: String?
    var pidfile: String
    var fsfreezeHook: String?
    var statedir: String
    var verbose: Bool
    var retryPath: Bool
    var blockRPCs: [String]
    var allowRPCs: [String]
    var freezeTimeout: Double

    init(_ c: Config) {
        // A leading \f or \v: no keyfile holds one (the reader strips it, and the blanks
        // after it, as GLib does, and GLib's escapes have none for it).
        let held = { (s: String) in
            s.first == "\u{0B}" || s.first == "\u{0C}" ? String(s.drop { $0 == "\u{0B}" || $0 == "\u{0C}" || $0 == " " }) : s
        }
        daemonize = c.daemonize
        method = c.method
        channelPath = c.channelPath.map(held)
        logfile = c.logfile.map(held)
        pidfile = held(c.pidfile)
        // `-F ''` keeps an empty hook, as qemu-ga's does; an empty `fsfreeze-hook=` in a
        // file means the default, as in qemu-ga: the dump cannot tell them apart.
        fsfreezeHook = c.fsfreezeHook.map(held).map { $0.isEmpty ? Config.defaultFsfreezeHook : $0 }
        statedir = held(c.statedir)
        verbose = c.verbose
        retryPath = c.retryPath
        // Compared without blanks and controls: no command name has any, and a file cannot
        // hold them all (GLib strips leading blanks, \f and \v included, from each value).
        let clean = { (list: [String]) in
            list.map { String(String.UnicodeScalarView($0.unicodeScalars.filter { !$0.properties.isWhitespace && $0.value >= 0x20 })) }
                .filter { !$0.isEmpty }
        }
        blockRPCs = clean(c.blockRPCs)
        allowRPCs = clean(c.allowRPCs)
        freezeTimeout = c.freezeTimeout
    }
}

private let file: String = {
    var template = Array("/tmp/qga-fuzz-config.XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { $0.baseAddress.map(mkstemp) ?? -1 }
    guard fd >= 0 else { fail("cannot make a temporary file") }
    close(fd)
    // libFuzzer ends with exit(): the file goes with the process.
    atexit { _ = unlink(file) }
    return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
}()

private func write(_ path: String, _ bytes: [UInt8]) -> Bool {
    guard let fd = try? FileDescriptor.open(FilePath(path), .writeOnly, options: [.truncate], retryOnInterrupt: true) else { return false }
    defer { try? fd.close() }
    return (try? fd.writeAll(bytes)) == bytes.count
}
