extension CUDACompatibility {
    /// The table, as data. Update it when a framework ships a release: add the row, update
    /// `updated`, and re-record the golden Dockerfiles (RECORD=1). A pinned release newer than the
    /// table is refused with an explanation, never guessed.
    ///
    /// - `images`: the nvidia/cuda `base` images used (CUDA runtime, driver check, no cuDNN).
    /// - each framework: how its pip wheels get CUDA (`match`: `exact` when the wheel is built for
    ///   one CUDA release and the image must be that release; `minimum` when any image of the same
    ///   major version at least that release works), the extra that makes pip install the CUDA
    ///   libraries, and per release series the CUDA releases it has wheels for.
    static let tableJSON = #"""
        {
          "updated": "2026-11-22",
          "images": {
            "source": "https://hub.docker.com/r/nvidia/cuda/tags (base flavour; the newest patch of each release)",
            "tags": [
              {"cuda": "11.8.0", "ubuntu": "22.04"},
              {"cuda": "12.1.1", "ubuntu": "22.04"},
              {"cuda": "12.4.1", "ubuntu": "22.04"},
              {"cuda": "12.6.3", "ubuntu": "22.04"},
              {"cuda": "12.8.1", "ubuntu": "22.04"},
              {"cuda": "12.9.1", "ubuntu": "22.04"},
              {"cuda": "13.0.1", "ubuntu": "24.04"}
            ]
          },
          "frameworks": [
            {
              "distribution": "torch",
              "source": "https://pytorch.org/get-started/previous-versions/ (wheel indexes download.pytorch.org/whl/cuXYZ)",
              "match": "exact",
              "wheelIndex": "https://download.pytorch.org/whl/cu{cuda}",
              "check": "import torch; assert torch.version.cuda == '{cuda}', 'torch ' + torch.__version__ + ' is not built for CUDA {cuda}'",
              "series": [
                {"release": "2.0", "cuda": ["11.8"]},
                {"release": "2.1", "cuda": ["11.8", "12.1"]},
                {"release": "2.2", "cuda": ["11.8", "12.1"]},
                {"release": "2.3", "cuda": ["11.8", "12.1"]},
                {"release": "2.4", "cuda": ["11.8", "12.1", "12.4"]},
                {"release": "2.5", "cuda": ["11.8", "12.1", "12.4"]},
                {"release": "2.6", "cuda": ["11.8", "12.4", "12.6"]},
                {"release": "2.7", "cuda": ["11.8", "12.6", "12.8"]},
                {"release": "2.8", "cuda": ["12.6", "12.8", "12.9"]},
                {"release": "2.9", "cuda": ["12.6", "12.8", "13.0"]}
              ]
            },
            {
              "distribution": "tensorflow",
              "source": "https://www.tensorflow.org/install/source#gpu (tested build configurations) and https://www.tensorflow.org/install/pip",
              "match": "minimum",
              "extra": "and-cuda",
              "check": "import tensorflow as tf; assert tf.test.is_built_with_cuda(), 'tensorflow is not built with CUDA'",
              "series": [
                {"release": "2.14", "cuda": ["11.8"]},
                {"release": "2.15", "cuda": ["12.2"]},
                {"release": "2.16", "cuda": ["12.3"]},
                {"release": "2.17", "cuda": ["12.3"]},
                {"release": "2.18", "cuda": ["12.5"]},
                {"release": "2.19", "cuda": ["12.5"]},
                {"release": "2.20", "cuda": ["12.5"]},
                {"release": "2.21", "cuda": ["12.5"]}
              ]
            },
            {
              "distribution": "jax",
              "source": "https://docs.jax.dev/en/latest/installation.html (pip wheels with the cuda12 extra)",
              "match": "minimum",
              "extra": "cuda12",
              "check": "import jax, jax_cuda12_plugin",
              "series": [
                {"release": "0.4", "cuda": ["12.1"]},
                {"release": "0.5", "cuda": ["12.1"]},
                {"release": "0.6", "cuda": ["12.1"]},
                {"release": "0.7", "cuda": ["12.1"]},
                {"release": "0.8", "cuda": ["12.1"]}
              ]
            },
            {
              "distribution": "onnxruntime-gpu",
              "source": "https://onnxruntime.ai/docs/execution-providers/CUDA-ExecutionProvider.html#requirements",
              "match": "minimum",
              "extra": "cuda,cudnn",
              "check": "import onnxruntime as ort; assert 'CUDAExecutionProvider' in ort.get_available_providers(), 'onnxruntime has no CUDA provider'",
              "series": [
                {"release": "1.21", "cuda": ["12.2"]},
                {"release": "1.22", "cuda": ["12.2"]},
                {"release": "1.23", "cuda": ["12.2"]}
              ]
            }
          ]
        }
        """#
}
