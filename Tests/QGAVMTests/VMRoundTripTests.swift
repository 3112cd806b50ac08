import Foundation
import QGATestSupport
import Testing

/// How many libvirt RPCs a domain command costs (issue 11, item 2), from libvirt's own
/// client log (`LIBVIRT_LOG_FILTERS=1:rpc`: one `RPC_CLIENT_MSG_TX_QUEUE ... type=0` line
/// per call), against virsh's for the same agent command on the real libvirtd.
@Suite(.serialized, .enabled(if: TestBed.current != nil, "the VM test bed is not up (scripts/vm-testbed up)"))
struct VMRoundTripTests {
    let bed = TestBed.current!

    /// Runs `executable` with libvirt's RPC debug log on, checks it succeeded, and returns
    /// the calls it made as `program/procedure` (keepalives are not calls).
    func calls(_ executable: String, _ arguments: [String]) throws -> [String] {
        let directory = try TemporaryDirectory("round-trips")
        defer { directory.remove() }
        let log = directory.path + "/libvirt.log"
        let environment = ["LIBVIRT_LOG_FILTERS": "1:rpc", "LIBVIRT_LOG_OUTPUTS": "1:file:" + log]
        let result = try run(executable, arguments, environment: environment, timeout: 120)
        #expect(result.status == 0, "\(result)")
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line -> String? in
            guard line.contains("RPC_CLIENT_MSG_TX_QUEUE:"), line.contains(" type=0 ") else { return nil }
            func field(_ name: String) -> Substring? {
                guard let start = line.firstRange(of: " \(name)=")?.upperBound else { return nil }
                return line[start...].prefix { $0 != " " }
            }
            guard let program = field("prog"), let procedure = field("proc") else { return nil }
            // 536903815 is QEMU_PROGRAM (the agent command), 536903814 the remote one.
            return (program == "536903815" ? "qemu/" : "remote/") + procedure
        }
    }

    func virshCalls() throws -> [String] {
        try calls("/usr/bin/virsh", ["-c", bed.uri, "qemu-agent-command", bed.domain, #"{"execute":"guest-ping"}"#])
    }

    @Test(arguments: [["exec", "DOMAIN", "guest-ping"], ["ping", "DOMAIN"], ["fsinfo", "DOMAIN"]])
    func qgaMakesNoMoreCallsThanVirsh(command: [String]) throws {
        let virsh = try virshCalls()
        let arguments = [command[0], "-c", bed.uri] + command.dropFirst().map { $0 == "DOMAIN" ? bed.domain : $0 }
        let qga = try calls(try Binaries.path("qga"), arguments)
        #expect(virsh.contains("qemu/3"), "virsh: \(virsh)")
        #expect(qga.count { $0 == "qemu/3" } == 1, "qga: \(qga)")
        // 14 is REMOTE_PROC_DOMAIN_GET_XML_DESC: not needed for libvirt's own channel.
        #expect(!qga.contains("remote/14"), "qga: \(qga)")
        #expect(qga.count <= virsh.count, "qga \(command[0]): \(qga.count) calls \(qga); virsh: \(virsh.count) \(virsh)")
        print("round trips: qga \(command.joined(separator: " ")): \(qga.count) \(qga); virsh qemu-agent-command: \(virsh.count) \(virsh)")
    }
}
