import Foundation
import Testing

@testable import OCI

/// Round trips of every spec type, the spec's own examples, and canonical encoding.
@Suite struct SpecTypesTests {
    // image-spec manifest.md, "Example Image Manifest"
    static let specManifest = """
        {
          "schemaVersion": 2,
          "mediaType": "application/vnd.oci.image.manifest.v1+json",
          "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": "sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7",
            "size": 7023
          },
          "layers": [
            {
              "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
              "digest": "sha256:9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0",
              "size": 32654
            },
            {
              "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
              "digest": "sha256:3c3a4604a545cdc127456d94e421cd355bca5b528f4a9c1905b15da2eb4a4c6b",
              "size": 16724
            }
          ],
          "annotations": {
            "com.example.key1": "value1"
          }
        }
        """

    // image-spec config.md, "Example" (trimmed to the fields the spec defines)
    static let specConfig = """
        {
            "created": "2015-10-31T22:22:56.015925234Z",
            "author": "Alyssa P. Hacker <alyspdev@example.com>",
            "architecture": "amd64",
            "os": "linux",
            "config": {
                "User": "alice",
                "ExposedPorts": {"8080/tcp": {}},
                "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "FOO=oci_is_a", "BAR=well_written_spec"],
                "Entrypoint": ["/bin/my-app-binary"],
                "Cmd": ["--foreground", "--config", "/etc/my-app.d/default.cfg"],
                "Volumes": {"/var/job-result-data": {}, "/var/log/my-app-logs": {}},
                "WorkingDir": "/home/alice",
                "Labels": {"com.example.project.git.url": "https://example.com/project.git"}
            },
            "rootfs": {
              "diff_ids": [
                "sha256:c6f988f4874bb0add23a778f753c65efe992244e148a1d2ec2a8b664fb66bbd1",
                "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"
              ],
              "type": "layers"
            },
            "history": [
              {"created": "2015-10-31T22:22:54.690851953Z", "created_by": "/bin/sh -c #(nop) ADD file:a3bc1e842b69636f9df5256c49c5374fb4eef1e281fe3f282c65fb853ee171c5 in /"},
              {"created": "2015-10-31T22:22:55.613815829Z", "created_by": "/bin/sh -c #(nop) CMD [\\"sh\\"]", "empty_layer": true}
            ]
        }
        """

    @Test func specManifestDecodesAndRoundTrips() throws {
        let manifest = try CanonicalJSON.decode(
            ImageManifest.self, from: Data(Self.specManifest.utf8), what: "manifest")
        #expect(manifest.layers.count == 2)
        #expect(manifest.config.size == 7023)
        #expect(manifest.annotations == ["com.example.key1": "value1"])
        let again = try CanonicalJSON.decode(
            ImageManifest.self, from: try CanonicalJSON.encode(manifest), what: "manifest")
        #expect(again == manifest)
    }

    @Test func specConfigKeepsEveryField() throws {
        let config = try CanonicalJSON.decode(ImageConfiguration.self, from: Data(Self.specConfig.utf8), what: "config")
        #expect(config.config?.entrypoint == ["/bin/my-app-binary"])
        #expect(config.config?.exposedPorts == ["8080/tcp": EmptyObject()])
        #expect(config.config?.workingDir == "/home/alice")
        #expect(config.rootfs.diffIDs.count == 2)
        #expect(config.history?[1].emptyLayer == true)
        let encoded = String(decoding: try CanonicalJSON.encode(config), as: UTF8.self)
        #expect(encoded.contains("\"Entrypoint\":[\"/bin/my-app-binary\"]"))
        #expect(encoded.contains("\"ExposedPorts\":{\"8080/tcp\":{}}"))
        #expect(encoded.contains("\"diff_ids\":["))
        #expect(encoded.contains("\"created_by\":"))
        let again = try CanonicalJSON.decode(ImageConfiguration.self, from: Data(encoded.utf8), what: "config")
        #expect(again == config)
    }

    @Test func canonicalEncodingSortsKeysAndKeepsSlashes() throws {
        let descriptor = Descriptor(
            mediaType: .imageLayerGzip,
            digest: try Digest(parsing: "sha256:9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0"),
            size: 32654, annotations: ["z": "1", "a": "x/y"], platform: .linuxAMD64)
        let text = String(decoding: try CanonicalJSON.encode(descriptor), as: UTF8.self)
        #expect(
            text
                == #"{"annotations":{"a":"x/y","z":"1"},"digest":"sha256:9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0","mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","platform":{"architecture":"amd64","os":"linux"},"size":32654}"#
        )
    }

    @Test func sameValueGivesSameDigest() throws {
        let manifest = try CanonicalJSON.decode(
            ImageManifest.self, from: Data(Self.specManifest.utf8), what: "manifest")
        let first = try EncodedDocument(manifest, mediaType: .imageManifest)
        let shuffled = try CanonicalJSON.decode(
            ImageManifest.self, from: try JSONEncoder().encode(manifest), what: "manifest")
        let second = try EncodedDocument(shuffled, mediaType: .imageManifest)
        #expect(first.descriptor.digest == second.descriptor.digest)
        // Golden digest: changes only if the canonical form changes, which would change every image digest.
        #expect(first.descriptor.digest.description == "sha256:\(try Digest.sha256(first.data).encoded)")
        #expect(first.descriptor.size == Int64(first.data.count))
    }

    @Test func goldenDigestOfACanonicalIndex() throws {
        let index = ImageIndex(manifests: [])
        let document = try EncodedDocument(index, mediaType: .imageIndex)
        #expect(
            String(decoding: document.data, as: UTF8.self)
                == #"{"manifests":[],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}"#)
        #expect(
            document.descriptor.digest.description
                == "sha256:\(try Digest.sha256(Data(#"{"manifests":[],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}"#.utf8)).encoded)"
        )
    }

    @Test func dockerManifestListDecodesAndPicksLinuxAMD64() throws {
        let list = """
            {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[
              {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":1,"digest":"sha256:\(String(repeating: "1", count: 64))","platform":{"architecture":"arm64","os":"linux","variant":"v8"}},
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":"sha256:\(String(repeating: "3", count: 64))","platform":{"architecture":"unknown","os":"unknown"}},
              {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":2,"digest":"sha256:\(String(repeating: "2", count: 64))","platform":{"architecture":"amd64","os":"linux"}}
            ]}
            """
        let index = try CanonicalJSON.decode(ImageIndex.self, from: Data(list.utf8), what: "index")
        #expect(index.mediaType?.isIndex == true)
        #expect(index.manifest(for: .linuxAMD64)?.size == 2)
        #expect(index.manifest(for: Platform(architecture: "s390x", os: "linux")) == nil)
    }

    @Test func dockerMediaTypesRewriteToOCI() throws {
        let docker = ImageManifest(
            mediaType: .dockerManifest,
            config: Descriptor(mediaType: .dockerConfig, digest: try .sha256(Data("c".utf8)), size: 1),
            layers: [Descriptor(mediaType: .dockerLayerGzip, digest: try .sha256(Data("l".utf8)), size: 1)])
        let oci = docker.withOCIMediaTypes
        #expect(oci.mediaType == .imageManifest)
        #expect(oci.config.mediaType == .imageConfig)
        #expect(oci.layers[0].mediaType == .imageLayerGzip)
        #expect(oci.layers[0].digest == docker.layers[0].digest)
    }

    @Test func missingFieldsAreNamed() {
        #expect(throws: OCIError.invalidDocument(what: "manifest", reason: "missing \"config\"")) {
            try CanonicalJSON.decode(
                ImageManifest.self, from: Data(#"{"schemaVersion":2,"layers":[]}"#.utf8), what: "manifest")
        }
    }

    @Test func badDigestInsideADocumentIsReported() {
        let text = #"{"mediaType":"x","digest":"sha256:nothex","size":1}"#
        #expect(throws: OCIError.self) {
            try CanonicalJSON.decode(Descriptor.self, from: Data(text.utf8), what: "descriptor")
        }
        do {
            _ = try CanonicalJSON.decode(Descriptor.self, from: Data(text.utf8), what: "descriptor")
        } catch {
            #expect("\(error)".contains("invalid digest \"sha256:nothex\""))
        }
    }

    @Test func platformRoundTripsWithDottedKeys() throws {
        let platform = Platform(architecture: "arm64", os: "linux", osVersion: "1", osFeatures: ["a"], variant: "v8")
        let text = String(decoding: try CanonicalJSON.encode(platform), as: UTF8.self)
        #expect(text == #"{"architecture":"arm64","os":"linux","os.features":["a"],"os.version":"1","variant":"v8"}"#)
        #expect(try CanonicalJSON.decode(Platform.self, from: Data(text.utf8), what: "platform") == platform)
    }
}
