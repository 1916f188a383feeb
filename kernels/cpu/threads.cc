#include <omp.h>
#ifdef STILTS_HAS_OPENBLAS
#include <cblas.h>
#endif

#include "kernels/cpu/cpu_ops.h"

namespace stilts::cpu {

// Debian's OpenMP build of OpenBLAS runs its GEMMs on the program's OpenMP pool, and runs
// single-threaded inside our own parallel regions; setting both keeps them in step.
void set_cpu_threads(int threads) {
  omp_set_num_threads(threads);
#ifdef STILTS_HAS_OPENBLAS
  openblas_set_num_threads(threads);
#endif
}

int cpu_threads() {
  return omp_get_max_threads();
}

}  // namespace stilts::cpu
