# Reading the lines that stilts bench and the PyTorch scripts print ("KEY: value"), for the
# side-by-side comparisons (compare_cpu.sh, compare_gpu.sh source this file).

# the number after "KEY:" on the line that starts with it, in a bench output file
field() { awk -v key="$2:" 'index($0, key) == 1 { sub(key, ""); print $1; exit }' "$1"; }
# the larger of two numbers, treating "" as absent
best() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b + 0 > a + 0) print b; else print a }'; }
# the smaller, for peak memory
least() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b + 0 < a + 0) print b; else print a }'; }
