import TestSupport
import Testing

@testable import CogEngine

/// Reading requirement lines the way pip and Cog do.
@Suite struct RequirementsTests {
    @Test(
        arguments: [
            ("torch==1.12.1 --extra-index-url=https://download.pytorch.org/whl/cu116", "torch"),
            ("my_package @ file://my_package-0.1-py3-none-any.whl", "my_package"),
            ("sentry-sdk[fastapi,loguru]>=2.16.0", "sentry-sdk"),
            ("numpy>=1.0; python_version < '3.9'", "numpy"),
            ("https://r2.drysys.workers.dev/torch/11.8/torch-2.1.0-cp311-cp311-linux_x86_64.whl", nil),
            ("git+https://github.com/openai/CLIP.git", nil),
            ("--extra-index-url https://example.com", nil),
            ("dist/pkg-1.0-py3-none-any.whl", nil),
        ] as [(String, String?)])
    func packageNames(_ line: String, _ name: String?) {
        #expect(Requirements.packageName(line) == name)
    }

    @Test func pinnedRequirementsWithIndexOptions() {
        #expect(Requirements.pinned("torch==2.0.1") == PinnedRequirement(name: "torch", version: "2.0.1"))
        #expect(
            Requirements.pinned("torch==1.11.0 --extra-index-url=https://download.pytorch.org/whl/cu113")
                == PinnedRequirement(
                    name: "torch", version: "1.11.0", extraIndexURLs: ["https://download.pytorch.org/whl/cu113"]))
        #expect(
            Requirements.pinned("torch==1.12.0+cu116 -f https://download.pytorch.org/whl/torch_stable.html")
                == PinnedRequirement(
                    name: "torch", version: "1.12.0+cu116",
                    findLinks: ["https://download.pytorch.org/whl/torch_stable.html"]))
        #expect(Requirements.pinned("torch>=2.0") == nil)
        #expect(Requirements.pinned("torch==2.0; python_version > '3'") == nil)
        #expect(Requirements.firstVersion("torch<=2.5.1") == "2.5.1")
    }

    @Test func gitReferences() {
        #expect(Requirements.gitRef("git+https://github.com/huggingface/transformers@2d1602a") == "2d1602a")
        #expect(Requirements.gitRef("git+https://user@github.com/a/b.git#egg=b") == nil)
        #expect(Requirements.gitRef("git+ssh://git@github.com/a/b.git@v1.0#egg=b") == "v1.0")
        #expect(
            Requirements.gitURL("clip @ git+https://github.com/openai/CLIP.git@main")
                == "git+https://github.com/openai/CLIP.git@main")
        #expect(Requirements.checkGitRequirement("git+https://github.com/a/b@main") == nil)
    }

    @Test func torchFoundBehindAnIndexOptionChoosesCUDA() throws {
        let yaml =
            "build:\n  gpu: true\n  python_version: \"3.10\"\n  python_packages: [\"torch==1.12.1 --extra-index-url=https://download.pytorch.org/whl/cu116\"]\npredict: \"predict.py:P\"\n"
        #expect(try load(yaml).config.config.build.cuda == "11.6")
    }
}
