package org.cotrain.backend;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.cuda.cudnn.cudnnContext;
import org.bytedeco.cuda.cudnn.cudnnConvolutionBwdDataAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionBwdFilterAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionFwdAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionStruct;
import org.bytedeco.cuda.cudnn.cudnnFilterStruct;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;
import org.bytedeco.cuda.global.cudnn;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.SizeTPointer;
import org.cotrain.tensor.Backend.Conv2dDims;

/**
 * cuDNN's convolution descriptors per shape ({@link Plan}) and the choice of each direction's algorithm, for
 * {@link CudaBackend}: the fastest that cudnnFind measures among the deterministic ones (no atomics: the same seed
 * gives the same weights run to run) with FMA math (no TF32, as for cuBLAS, so that CUDA matches the CPU reference)
 * and a workspace under {@link #WORKSPACE_LIMIT}; cudnnGet..._v7's heuristic ranking when cudnnFind offers none. The
 * three directions differ only in which cuDNN functions rank and size them ({@link Direction}); one search serves all.
 */
final class CudnnAlgorithms {
    private CudnnAlgorithms() {}

    /** The most device memory a convolution algorithm may use as workspace. */
    static final long WORKSPACE_LIMIT = 512L << 20;

    static void check(int status, String what) {
        if (status != cudnn.CUDNN_STATUS_SUCCESS) {
            BytePointer s = cudnn.cudnnGetErrorString(status);
            throw new CudaException(what + " failed: " + (s == null ? "" : s.getString()) + " (cuDNN status " + status
                    + ")");
        }
    }

    /** The descriptors of one convolution shape and its chosen algorithms (-1: not chosen yet). */
    static final class Plan implements AutoCloseable {
        final cudnnTensorStruct x = new cudnnTensorStruct();
        final cudnnTensorStruct y = new cudnnTensorStruct();
        final cudnnTensorStruct bias = new cudnnTensorStruct();
        final cudnnFilterStruct w = new cudnnFilterStruct();
        final cudnnConvolutionStruct conv = new cudnnConvolutionStruct();
        int forwardAlgo = -1;
        long forwardBytes;
        int dataAlgo = -1;
        long dataBytes;
        int filterAlgo = -1;
        long filterBytes;

        Plan(Conv2dDims d) {
            int nchw = cudnn.CUDNN_TENSOR_NCHW;
            int f32 = cudnn.CUDNN_DATA_FLOAT;
            check(cudnn.cudnnCreateTensorDescriptor(x), "cudnnCreateTensorDescriptor");
            check(cudnn.cudnnCreateTensorDescriptor(y), "cudnnCreateTensorDescriptor");
            check(cudnn.cudnnCreateTensorDescriptor(bias), "cudnnCreateTensorDescriptor");
            check(cudnn.cudnnCreateFilterDescriptor(w), "cudnnCreateFilterDescriptor");
            check(cudnn.cudnnCreateConvolutionDescriptor(conv), "cudnnCreateConvolutionDescriptor");
            check(cudnn.cudnnSetTensor4dDescriptor(x, nchw, f32, d.n(), d.ci(), d.h(), d.w()), "x descriptor");
            check(cudnn.cudnnSetTensor4dDescriptor(y, nchw, f32, d.n(), d.co(), d.ho(), d.wo()), "y descriptor");
            check(cudnn.cudnnSetTensor4dDescriptor(bias, nchw, f32, 1, d.co(), 1, 1), "bias descriptor");
            check(cudnn.cudnnSetFilter4dDescriptor(w, f32, nchw, d.co(), d.ci(), d.kh(), d.kw()),
                    "filter descriptor");
            check(cudnn.cudnnSetConvolution2dDescriptor(conv, d.ph(), d.pw(), d.sh(), d.sw(), 1, 1,
                    cudnn.CUDNN_CROSS_CORRELATION, f32), "convolution descriptor");
            check(cudnn.cudnnSetConvolutionMathType(conv, cudnn.CUDNN_FMA_MATH), "cudnnSetConvolutionMathType");
        }

        @Override
        public void close() {
            cudnn.cudnnDestroyTensorDescriptor(x);
            cudnn.cudnnDestroyTensorDescriptor(y);
            cudnn.cudnnDestroyTensorDescriptor(bias);
            cudnn.cudnnDestroyFilterDescriptor(w);
            cudnn.cudnnDestroyConvolutionDescriptor(conv);
        }
    }

    /** Chooses the forward algorithm of a plan and sizes its workspace. */
    static void chooseForward(cudnnContext h, Plan p, Conv2dDims d) {
        Choice c = choose(h, p, d, FORWARD);
        p.forwardBytes = c.bytes;
        p.forwardAlgo = c.algo;
    }

    /** Chooses the backward-data algorithm of a plan and sizes its workspace. */
    static void chooseBackwardData(cudnnContext h, Plan p, Conv2dDims d) {
        Choice c = choose(h, p, d, BACKWARD_DATA);
        p.dataBytes = c.bytes;
        p.dataAlgo = c.algo;
    }

    /** Chooses the backward-filter algorithm of a plan and sizes its workspace. */
    static void chooseBackwardFilter(cudnnContext h, Plan p, Conv2dDims d) {
        Choice c = choose(h, p, d, BACKWARD_FILTER);
        p.filterBytes = c.bytes;
        p.filterAlgo = c.algo;
    }

    /** One entry of cudnnFind/Get's ranking, with the fields the choice looks at. */
    record AlgoPerf(int algo, int status, int determinism, int mathType, long memory) {
        boolean usable() {
            return status == cudnn.CUDNN_STATUS_SUCCESS && determinism == cudnn.CUDNN_DETERMINISTIC
                    && mathType != cudnn.CUDNN_TENSOR_OP_MATH
                    && mathType != cudnn.CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION && memory <= WORKSPACE_LIMIT;
        }
    }

    /** The first usable entry of cudnnFind's ranking (fastest first), else of cudnnGet_v7's; -1 if none. */
    static int choose(List<AlgoPerf> found, List<AlgoPerf> heuristic) {
        for (List<AlgoPerf> ranking : List.of(found, heuristic)) {
            for (AlgoPerf p : ranking) {
                if (p.usable()) {
                    return p.algo();
                }
            }
        }
        return -1;
    }

    private record Choice(int algo, long bytes) {}

    /** A direction's cuDNN calls: its ranking array type P and the functions that count, rank, read and size. */
    private interface Direction<P extends Pointer> {
        String name();

        int maxCount(cudnnContext h, IntPointer max);

        P newPerf(int n);

        /** cudnnFind...: measured ranking; a status other than success means none. */
        int find(cudnnContext h, Plan p, int max, IntPointer returned, P perf);

        /** cudnnGet..._v7: the heuristic ranking. */
        int heuristic(cudnnContext h, Plan p, int max, IntPointer returned, P perf);

        AlgoPerf entry(P perf, int i);

        int workspace(cudnnContext h, Plan p, int algo, SizeTPointer bytes);
    }

    private static <P extends Pointer> Choice choose(cudnnContext h, Plan p, Conv2dDims d, Direction<P> dir) {
        try (IntPointer max = new IntPointer(1); IntPointer returned = new IntPointer(1)) {
            check(dir.maxCount(h, max), "algorithm count");
            List<AlgoPerf> found = new ArrayList<>();
            List<AlgoPerf> heuristic = new ArrayList<>();
            P perf = dir.newPerf(max.get());
            try {
                if (dir.find(h, p, max.get(), returned, perf) == cudnn.CUDNN_STATUS_SUCCESS) {
                    for (int i = 0; i < returned.get(); i++) {
                        found.add(dir.entry(perf, i));
                    }
                }
                check(dir.heuristic(h, p, max.get(), returned, perf), "cudnnGet " + dir.name() + " algorithm_v7");
                for (int i = 0; i < returned.get(); i++) {
                    heuristic.add(dir.entry(perf, i));
                }
            } finally {
                perf.close();
            }
            int algo = choose(found, heuristic);
            if (algo < 0) {
                throw new CudaException("cuDNN offers no deterministic FMA " + dir.name() + " algorithm within "
                        + (WORKSPACE_LIMIT >> 20) + " MiB of workspace for " + d);
            }
            try (SizeTPointer bytes = new SizeTPointer(1)) {
                check(dir.workspace(h, p, algo, bytes), "cudnnGet " + dir.name() + " workspace size");
                return new Choice(algo, bytes.get());
            }
        }
    }

    private static final Direction<cudnnConvolutionFwdAlgoPerf_t> FORWARD = new Direction<>() {
        public String name() {
            return "forward";
        }

        public int maxCount(cudnnContext h, IntPointer max) {
            return cudnn.cudnnGetConvolutionForwardAlgorithmMaxCount(h, max);
        }

        public cudnnConvolutionFwdAlgoPerf_t newPerf(int n) {
            return new cudnnConvolutionFwdAlgoPerf_t(n);
        }

        public int find(cudnnContext h, Plan p, int max, IntPointer returned, cudnnConvolutionFwdAlgoPerf_t perf) {
            return cudnn.cudnnFindConvolutionForwardAlgorithm(h, p.x, p.w, p.conv, p.y, max, returned, perf);
        }

        public int heuristic(cudnnContext h, Plan p, int max, IntPointer returned,
                             cudnnConvolutionFwdAlgoPerf_t perf) {
            return cudnn.cudnnGetConvolutionForwardAlgorithm_v7(h, p.x, p.w, p.conv, p.y, max, returned, perf);
        }

        public AlgoPerf entry(cudnnConvolutionFwdAlgoPerf_t perf, int i) {
            cudnnConvolutionFwdAlgoPerf_t e = perf.getPointer(i);
            return new AlgoPerf(e.algo(), e.status(), e.determinism(), e.mathType(), e.memory());
        }

        public int workspace(cudnnContext h, Plan p, int algo, SizeTPointer bytes) {
            return cudnn.cudnnGetConvolutionForwardWorkspaceSize(h, p.x, p.w, p.conv, p.y, algo, bytes);
        }
    };

    private static final Direction<cudnnConvolutionBwdDataAlgoPerf_t> BACKWARD_DATA = new Direction<>() {
        public String name() {
            return "backward-data";
        }

        public int maxCount(cudnnContext h, IntPointer max) {
            return cudnn.cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h, max);
        }

        public cudnnConvolutionBwdDataAlgoPerf_t newPerf(int n) {
            return new cudnnConvolutionBwdDataAlgoPerf_t(n);
        }

        public int find(cudnnContext h, Plan p, int max, IntPointer returned,
                        cudnnConvolutionBwdDataAlgoPerf_t perf) {
            return cudnn.cudnnFindConvolutionBackwardDataAlgorithm(h, p.w, p.y, p.conv, p.x, max, returned, perf);
        }

        public int heuristic(cudnnContext h, Plan p, int max, IntPointer returned,
                             cudnnConvolutionBwdDataAlgoPerf_t perf) {
            return cudnn.cudnnGetConvolutionBackwardDataAlgorithm_v7(h, p.w, p.y, p.conv, p.x, max, returned, perf);
        }

        public AlgoPerf entry(cudnnConvolutionBwdDataAlgoPerf_t perf, int i) {
            cudnnConvolutionBwdDataAlgoPerf_t e = perf.getPointer(i);
            return new AlgoPerf(e.algo(), e.status(), e.determinism(), e.mathType(), e.memory());
        }

        public int workspace(cudnnContext h, Plan p, int algo, SizeTPointer bytes) {
            return cudnn.cudnnGetConvolutionBackwardDataWorkspaceSize(h, p.w, p.y, p.conv, p.x, algo, bytes);
        }
    };

    private static final Direction<cudnnConvolutionBwdFilterAlgoPerf_t> BACKWARD_FILTER = new Direction<>() {
        public String name() {
            return "backward-filter";
        }

        public int maxCount(cudnnContext h, IntPointer max) {
            return cudnn.cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h, max);
        }

        public cudnnConvolutionBwdFilterAlgoPerf_t newPerf(int n) {
            return new cudnnConvolutionBwdFilterAlgoPerf_t(n);
        }

        public int find(cudnnContext h, Plan p, int max, IntPointer returned,
                        cudnnConvolutionBwdFilterAlgoPerf_t perf) {
            return cudnn.cudnnFindConvolutionBackwardFilterAlgorithm(h, p.x, p.y, p.conv, p.w, max, returned, perf);
        }

        public int heuristic(cudnnContext h, Plan p, int max, IntPointer returned,
                             cudnnConvolutionBwdFilterAlgoPerf_t perf) {
            return cudnn.cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, p.x, p.y, p.conv, p.w, max, returned, perf);
        }

        public AlgoPerf entry(cudnnConvolutionBwdFilterAlgoPerf_t perf, int i) {
            cudnnConvolutionBwdFilterAlgoPerf_t e = perf.getPointer(i);
            return new AlgoPerf(e.algo(), e.status(), e.determinism(), e.mathType(), e.memory());
        }

        public int workspace(cudnnContext h, Plan p, int algo, SizeTPointer bytes) {
            return cudnn.cudnnGetConvolutionBackwardFilterWorkspaceSize(h, p.x, p.y, p.conv, p.w, algo, bytes);
        }
    };
}
