import Glibc
import QGASystem
import SystemPackage

/// qgad's settings, from qemu-ga's options and config file (`[general]` keys), so that
/// existing unit files, `/etc/qemu-ga/qemu-ga.conf` files and habits carry over.
public struct Config: Sendable, Equatable {
    public enum Method: String, Sendable, CaseIterable {
        case virtioSerial = "virtio-serial"
        case isaSerial = "isa-serial"
        case unixListen = "unix-listen"
        case vsockListen = "vsock-listen"
    }

    public var daemonize = false
    public var method = Method.virtioSerial
    public var path: String?
    public var logfile: String?
    public var pidfile = "/var/run/qemu-ga.pid"
    public var fsfreezeHook: String?
    public var statedir = "/var/run"
    public var verbose = false
    public var retryPath = false
    public var blockRPCs: [String] = []
    public var allowRPCs: [String] = []
    /// qgad only: thaw by itself after this many seconds frozen (0: never).
    public var freezeTimeout: Double = 0

    public static let defaultConfigFile = "/etc/qemu-ga/qemu-ga.conf"
    public static let defaultFsfreezeHook = "/etc/qemu/fsfreeze-hook"

    public init() {}

    /// The channel path, or the method's default.
    public var channelPath: String? {
        if let path { return path }
        switch method {
        case .virtioSerial: return "/dev/virtio-ports/org.qemu.guest_agent.0"
        case .isaSerial: return "/dev/ttyS0"
        case .unixListen, .vsockListen: return nil
        }
    }

    /// The config as a keyfile, as `-D` prints it: strings escaped as GLib's
    /// `g_key_file_set_string` escapes them, so that the file reads back as the same config.
    public var dump: String {
        let e = Config.keyFileEscaped
        var lines = ["[general]", "daemon=\(daemonize)", "method=\(method.rawValue)"]
        if let path = channelPath { lines.append("path=\(e(path))") }
        if let logfile { lines.append("logfile=\(e(logfile))") }
        lines.append("pidfile=\(e(pidfile))")
        if let fsfreezeHook { lines.append("fsfreeze-hook=\(e(fsfreezeHook))") }
        lines.append("statedir=\(e(statedir))")
        lines.append("verbose=\(verbose)")
        lines.append("retry-path=\(retryPath)")
        if !allowRPCs.isEmpty { lines.append("allow-rpcs=\(e(allowRPCs.joined(separator: ",")))") }
        lines.append("block-rpcs=\(e(blockRPCs.joined(separator: ",")))")
        if freezeTimeout > 0 { lines.append("freeze-timeout=\(Config.decimal(freezeTimeout))") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `value` as a keyfile string: `\s` for a leading space, `\n \t \r \\` for the rest.
    static func keyFileEscaped(_ value: String) -> String {
        var out = ""
        for (index, c) in value.unicodeScalars.enumerated() {
            switch c {
            case " " where index == 0: out += "\\s"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\\": out += "\\\\"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// Seconds in the plain decimal form `freeze-timeout=` reads (`0.00001`, never `1e-05`).
    static func decimal(_ seconds: Double) -> String {
        let text = "\(seconds)"
        // Only values below 1e-4 print with an exponent (the largest timeout is a year).
        guard let e = text.firstIndex(of: "e"), let exponent = Int(text[text.index(after: e)...]), exponent < 0 else { return text }
        let digits = text[..<e].filter { $0 != "." }
        return "0." + String(repeating: "0", count: -exponent - 1) + digits
    }
}

/// A command line or config file qgad cannot accept; printed with the usage hint, exit 1.
public struct ConfigError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// What the command line asks for besides settings.
public enum Action: Equatable {
    case run
    case help
    case version
    case dumpConfig
    case listRPCs
}

extension Config {
    /// The longest `--freeze-timeout` accepted: a year. Longer is no safety net, and the
    /// bound keeps every later conversion (to milliseconds for `poll`) in range.
    public static let maxFreezeTimeout: Double = 365 * 24 * 3600

    /// Seconds as `--freeze-timeout` and `freeze-timeout=` take them: decimal digits with an
    /// optional fraction, from 0 to `maxFreezeTimeout`. Not `inf`, `nan`, `1e300` or `-1`.
    static func freezeTimeout(_ text: String) -> Double? {
        var digits = 0
        var dots = 0
        for c in text.utf8 {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digits += 1
            case UInt8(ascii: "."): dots += 1
            default: return nil
            }
        }
        guard digits > 0, dots <= 1, text.utf8.first != UInt8(ascii: "."), text.utf8.last != UInt8(ascii: "."),
            let seconds = Double(text), seconds.isFinite, seconds >= 0, seconds <= maxFreezeTimeout
        else { return nil }
        return seconds
    }

    static func freezeTimeoutError(_ text: String) -> String {
        "invalid freeze timeout '\(text)': give seconds from 0 to \(Int(maxFreezeTimeout)) (0: never thaw by itself)"
    }
}

/// Writes a warning line to stderr.
public func printWarning(_ message: String) {
    _ = try? FileDescriptor.standardError.writeFully(Array("qgad: warning: \(message)\n".utf8))
}

/// One of qgad's command-line options: its names, what argument it takes, and a warning
/// for a deprecated spelling. `table` lists them all; the parser knows nothing else.
struct CommandLineOption {
    /// What an option sets (several spellings may set the same).
    enum Name {
        case help, version, verbose, daemonize, config, method, path, logfile, pidfile
        case fsfreezeHook, blockRPCs, allowRPCs, statedir, dumpConf, retryPath, freezeTimeout
    }

    /// The argument an option takes, as getopt_long's `no_argument`, `required_argument`
    /// and `optional_argument`: an optional one only attached (`-FPATH`, `--name=PATH`).
    enum Argument {
        case none
        case required
        case optional
    }

    let name: Name
    /// nil for a long-only option.
    let short: Character?
    let long: String
    let argument: Argument
    var deprecation: String?

    /// qemu-ga's getopt string `hVvdc:m:p:l:f:F::b:a:s:t:Dr` and long names, and qgad's own.
    static let table: [CommandLineOption] = [
        CommandLineOption(name: .help, short: "h", long: "help", argument: .none),
        CommandLineOption(name: .version, short: "V", long: "version", argument: .none),
        CommandLineOption(name: .verbose, short: "v", long: "verbose", argument: .none),
        CommandLineOption(name: .daemonize, short: "d", long: "daemonize", argument: .none),
        CommandLineOption(name: .config, short: "c", long: "config", argument: .required),
        CommandLineOption(name: .method, short: "m", long: "method", argument: .required),
        CommandLineOption(name: .path, short: "p", long: "path", argument: .required),
        CommandLineOption(name: .logfile, short: "l", long: "logfile", argument: .required),
        CommandLineOption(name: .pidfile, short: "f", long: "pidfile", argument: .required),
        CommandLineOption(name: .fsfreezeHook, short: "F", long: "fsfreeze-hook", argument: .optional),
        CommandLineOption(name: .blockRPCs, short: "b", long: "block-rpcs", argument: .required),
        CommandLineOption(name: .allowRPCs, short: "a", long: "allow-rpcs", argument: .required),
        CommandLineOption(name: .statedir, short: "t", long: "statedir", argument: .required),
        CommandLineOption(name: .dumpConf, short: "D", long: "dump-conf", argument: .none),
        CommandLineOption(name: .retryPath, short: "r", long: "retry-path", argument: .none),
        CommandLineOption(name: .freezeTimeout, short: nil, long: "freeze-timeout", argument: .required),
        // qemu-ga's old name for --block-rpcs (deprecated in QEMU 7.2, removed in 9.1).
        CommandLineOption(
            name: .blockRPCs, short: nil, long: "blacklist", argument: .required,
            deprecation: "--blacklist is deprecated; use --block-rpcs (-b)"),
    ]
}

/// Parses qemu-ga's command line: getopt `hVvdc:m:p:l:f:F::b:a:s:t:Dr` with long names (and
/// their unambiguous abbreviations, as getopt_long takes them), `--name=value` and
/// `--name value`, and `-F` taking an optional attached argument. The config file (`-c`,
/// else `QGA_CONF`, else the default, which may be missing) is read first; the command line
/// overrides it, and lists accumulate. Deprecated spellings are accepted and reported
/// through `warn`.
public func parseCommandLine(
    _ arguments: [String], environment: (String) -> String?, warn: (String) -> Void = printWarning
) throws(ConfigError) -> (Config, Action) {
    let options = CommandLineOption.table
    var given: [(CommandLineOption.Name, String?)] = []
    var index = 0
    while index < arguments.count {
        let word = arguments[index]
        index += 1
        if word.hasPrefix("--") && word.count > 2 {
            let body = word.dropFirst(2)
            let name = body.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let inline = body.contains("=") ? String(body.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).last ?? "") : nil
            // An exact name, else an unambiguous abbreviation (several names for one option,
            // as --bl for --block-rpcs and --blacklist, are not ambiguous).
            let candidates = options.first(where: { $0.long == name }).map { [$0] } ?? options.filter { $0.long.hasPrefix(name) }
            guard let option = candidates.first else { throw ConfigError("unrecognized option '--\(name)'") }
            guard candidates.allSatisfy({ $0.name == option.name }) else {
                throw ConfigError("option '--\(name)' is ambiguous; possibilities: \(candidates.map { "'--\($0.long)'" }.joined(separator: " "))")
            }
            if let deprecation = option.deprecation { warn(deprecation) }
            switch option.argument {
            case .none:
                guard inline == nil else { throw ConfigError("option '--\(option.long)' doesn't allow an argument") }
                given.append((option.name, nil))
            case .required:
                if let inline {
                    given.append((option.name, inline))
                } else {
                    guard index < arguments.count else { throw ConfigError("option '--\(option.long)' requires an argument") }
                    given.append((option.name, arguments[index]))
                    index += 1
                }
            case .optional:
                given.append((option.name, inline))
            }
        } else if word.hasPrefix("-") && word.count > 1 {
            var letters = Substring(word.dropFirst())
            while let letter = letters.first {
                letters = letters.dropFirst()
                guard let option = options.first(where: { $0.short == letter }) else {
                    throw ConfigError("invalid option -- '\(letter)'")
                }
                if option.argument == .none {
                    given.append((option.name, nil))
                    continue
                }
                if !letters.isEmpty {
                    given.append((option.name, String(letters)))
                } else if option.argument == .optional {
                    given.append((option.name, nil))
                } else {
                    guard index < arguments.count else { throw ConfigError("option requires an argument -- '\(letter)'") }
                    given.append((option.name, arguments[index]))
                    index += 1
                }
                break
            }
        } else {
            throw ConfigError("unexpected argument '\(word)'")
        }
    }

    var config = Config()
    let explicitFile = given.last(where: { $0.0 == .config })?.1
    let file = explicitFile ?? environment("QGA_CONF") ?? Config.defaultConfigFile
    let fileMethod: String?
    switch loadConfigFile(file) {
    case .missing(let reason):
        if explicitFile != nil { throw ConfigError("error loading configuration from path: \(file), \(reason)") }
        fileMethod = nil
    case .failed(let reason):
        throw ConfigError("error loading configuration from path: \(file), \(reason)")
    case .loaded(let bytes):
        fileMethod = try applyKeyFile(bytes, to: &config, path: file, warn: warn)
    }
    var fileBlock = config.blockRPCs
    var fileAllow = config.allowRPCs
    config.blockRPCs = []
    config.allowRPCs = []

    var action = Action.run
    var method = fileMethod
    for (name, value) in given {
        switch name {
        case .help: action = .help
        case .version: action = .version
        case .dumpConf: action = .dumpConfig
        case .verbose: config.verbose = true
        case .daemonize: config.daemonize = true
        case .retryPath: config.retryPath = true
        case .config: break
        case .method: method = value ?? ""
        case .path: config.path = value
        case .logfile: config.logfile = value
        case .pidfile: config.pidfile = value ?? config.pidfile
        case .fsfreezeHook: config.fsfreezeHook = value ?? Config.defaultFsfreezeHook
        case .statedir: config.statedir = value ?? config.statedir
        case .freezeTimeout:
            guard let seconds = Config.freezeTimeout(value ?? "") else {
                throw ConfigError(Config.freezeTimeoutError(value ?? ""))
            }
            config.freezeTimeout = seconds
        case .blockRPCs, .allowRPCs:
            // As qemu-ga: "help" or "?" as the whole list asks for the command names.
            if value == "help" || value == "?" {
                action = .listRPCs
                continue
            }
            let list = (value ?? "").split(separator: ",").map(String.init)
            if name == .blockRPCs {
                config.blockRPCs += list
            } else {
                config.allowRPCs += list
            }
        }
    }
    if let method {
        // Checked after the command line, which may replace a bad method from the file.
        guard let known = Config.Method(rawValue: method) else {
            throw ConfigError("invalid method '\(method)'; use virtio-serial, isa-serial, unix-listen or vsock-listen")
        }
        config.method = known
    }
    if action == .listRPCs { return (config, action) }
    if !config.blockRPCs.isEmpty && !config.allowRPCs.isEmpty {
        throw ConfigError("wrong commandline, using --block-rpcs and --allow-rpcs at the same time is not allowed")
    }
    // Lists from the file come first; the command line adds to them.
    config.blockRPCs = fileBlock + config.blockRPCs
    config.allowRPCs = fileAllow + config.allowRPCs
    fileBlock = []
    fileAllow = []
    if config.method == .unixListen && config.path == nil && action == .run && environment("LISTEN_FDS") == nil {
        throw ConfigError("must specify a path for this channel")
    }
    return (config, action)
}

/// What reading the config file gave.
enum ConfigFile {
    /// No such file: qemu-ga's defaults apply, unless the file was named with `-c`.
    case missing(String)
    /// Any other failure, fatal as in qemu-ga (a directory, a FIFO, no permission).
    case failed(String)
    case loaded([UInt8])
}

/// Reads the config file as GLib's `g_key_file_load_from_file` does: a regular file only,
/// never blocking on a FIFO or a device, at most 1 MiB.
func loadConfigFile(_ path: String, limit: Int = 1 << 20) -> ConfigFile {
    let fd = retryingEINTR { open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY) }
    guard fd >= 0 else {
        let code = errno
        let reason = "failed to open file '\(path)': \(FileSystem.strerror(code))"
        return code == ENOENT ? .missing(reason) : .failed(reason)
    }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { return .failed("cannot stat '\(path)': \(FileSystem.strerror(errno))") }
    guard info.st_mode & S_IFMT == S_IFREG else { return .failed("not a regular file") }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fd, &chunk, chunk.count)
        if n < 0 && errno == EINTR { continue }
        if n < 0 { return .failed("cannot read '\(path)': \(FileSystem.strerror(errno))") }
        if n == 0 { break }
        out += chunk[0..<n]
        if out.count > limit { return .failed("larger than \(limit) bytes") }
    }
    return .loaded(out)
}

/// Applies a config file, read as GLib's keyfile parser reads it (qemu-ga uses GKeyFile):
/// `[group]` lines, `key=value` lines, `#` comments and blank lines, anything else an error.
/// Only `[general]` is used, but the whole file must parse. Booleans are `true`, `false`,
/// `1` or `0`; strings take the escapes `\s \n \t \r \\`. Every mistake is fatal, worded
/// after GLib, as in qemu-ga. Returns the `method` key's value, checked by the caller once
/// the command line has had its say.
func applyKeyFile(
    _ bytes: [UInt8], to config: inout Config, path: String, warn: (String) -> Void = { _ in }
) throws(ConfigError) -> String? {
    func fail(_ reason: String) -> ConfigError {
        ConfigError("error loading configuration from path: \(path), \(reason)")
    }
    func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (c >= 0x09 && c <= 0x0D) }
    func text(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }

    // The [general] group's keys, the last of each name winning.
    var general: [(key: String, value: ArraySlice<UInt8>)] = []
    var group: String?
    for rawLine in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
        var line = rawLine
        if line.last == 0x0D { line = line.dropLast() }
        while let c = line.first, isSpace(c) { line = line.dropFirst() }
        if line.isEmpty || line.first == UInt8(ascii: "#") { continue }
        if line.first == UInt8(ascii: "[") {
            var end = line
            while let c = end.last, c == 0x20 || c == 0x09 { end = end.dropLast() }
            if end.last == UInt8(ascii: "]") {
                let name = end.dropFirst().dropLast()
                if !name.contains(UInt8(ascii: "]")) {
                    guard !name.isEmpty, !name.contains(UInt8(ascii: "[")), !name.contains(where: { $0 < 0x20 || $0 == 0x7F }) else {
                        throw fail("invalid group name: \(text(name))")
                    }
                    group = text(name)
                    continue
                }
            }
        }
        guard let equals = line.firstIndex(of: UInt8(ascii: "=")), equals != line.startIndex else {
            throw fail("line '\(text(line))' is not a key-value pair, group, or comment")
        }
        guard let group else { throw fail("the file does not start with a group") }
        var key = line[..<equals]
        while let c = key.last, isSpace(c) { key = key.dropLast() }
        var value = line[line.index(after: equals)...]
        while let c = value.first, isSpace(c) { value = value.dropFirst() }
        // A key, or a key with a locale suffix (`name[locale]`, stored apart: never ours).
        if let open = key.firstIndex(of: UInt8(ascii: "[")) {
            let locale = key[key.index(after: open)...]
            guard open != key.startIndex, locale.last == UInt8(ascii: "]"),
                !locale.dropLast().contains(where: { $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "]") })
            else { throw fail("invalid key name: \(text(key))") }
            continue
        }
        guard !key.contains(UInt8(ascii: "]")) else { throw fail("invalid key name: \(text(key))") }
        if group == "general" { general.append((text(key), value)) }
    }

    func last(_ key: String) -> ArraySlice<UInt8>? { general.last(where: { $0.key == key })?.value }
    func uninterpretable(_ key: String) -> ConfigError {
        fail("key '\(key)' in group 'general' has a value that cannot be interpreted")
    }
    func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard var value = last(key) else { return nil }
        while let c = value.last, isSpace(c) { value = value.dropLast() }
        switch text(value) {
        case "true", "1": return true
        case "false", "0": return false
        default: throw uninterpretable(key)
        }
    }
    func string(_ key: String) throws(ConfigError) -> String? {
        guard let value = last(key) else { return nil }
        var out: [UInt8] = []
        var i = value.startIndex
        while i < value.endIndex {
            let c = value[i]
            i += 1
            guard c == UInt8(ascii: "\\") else {
                out.append(c)
                continue
            }
            guard i < value.endIndex else { throw uninterpretable(key) }
            switch value[i] {
            case UInt8(ascii: "s"): out.append(0x20)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
            default: throw uninterpretable(key)
            }
            i += 1
        }
        guard let decoded = String(validating: out, as: UTF8.self) else {
            throw fail("key '\(key)' in group 'general' has a value that is not UTF-8")
        }
        return decoded
    }
    func list(_ key: String) throws(ConfigError) -> [String]? {
        try string(key).map { $0.split(separator: ",").map { String($0.trimmingWhitespace()) }.filter { !$0.isEmpty } }
    }

    if let value = try bool("daemon") { config.daemonize = value }
    let method = try string("method")
    if let value = try string("path") { config.path = value }
    if let value = try string("logfile") { config.logfile = value }
    if let value = try string("pidfile") { config.pidfile = value }
    if let value = try string("fsfreeze-hook") { config.fsfreezeHook = value.isEmpty ? Config.defaultFsfreezeHook : value }
    if let value = try string("statedir") { config.statedir = value }
    if let value = try bool("verbose") { config.verbose = value }
    if let value = try bool("retry-path") { config.retryPath = value }
    // qemu-ga 7.2 reads the old key `blacklist` (with a warning) instead of `block-rpcs`;
    // qgad blocks what either names, so that no command meant to be blocked stays enabled.
    let blacklist = try list("blacklist")
    if blacklist != nil { warn("\(path): the key 'blacklist' is deprecated; use 'block-rpcs'") }
    if let value = try list("block-rpcs") { config.blockRPCs = value }
    if let blacklist { config.blockRPCs = blacklist + config.blockRPCs.filter { !blacklist.contains($0) } }
    if let value = try list("allow-rpcs") { config.allowRPCs = value }
    if let value = try string("freeze-timeout") {
        guard let seconds = Config.freezeTimeout(value) else { throw fail(Config.freezeTimeoutError(value)) }
        config.freezeTimeout = seconds
    }
    if !config.blockRPCs.isEmpty && !config.allowRPCs.isEmpty {
        throw fail("using block-rpcs and allow-rpcs at the same time is not allowed")
    }
    return method
}

extension StringProtocol {
    func trimmingWhitespace() -> SubSequence {
        var s = self[...]
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s = s.dropLast() }
        return s
    }
}

/// A whole (small) text file, or nil if it cannot be read.
func readTextFile(_ path: String, limit: Int = 1 << 20) -> String? {
    guard let bytes = readFile(path, limit: limit) else { return nil }
    return String(decoding: bytes, as: UTF8.self)
}

/// A whole (small) file's bytes, or nil if it cannot be read.
func readFile(_ path: String, limit: Int = 1 << 20) -> [UInt8]? {
    let fd = retryingEINTR { open(path, O_RDONLY | O_CLOEXEC) }
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while out.count < limit {
        let n = read(fd, &chunk, chunk.count)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        out += chunk[0..<n]
    }
    return out
}
