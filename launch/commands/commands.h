// One function per `stilts` subcommand; argv[0] is the command name.
#pragma once

namespace stilts::launch {

int run_train(int argc, char** argv);
int run_loss(int argc, char** argv);
int run_plan(int argc, char** argv);
int run_bench(int argc, char** argv);
int run_import_hf(int argc, char** argv);
int run_export_hf(int argc, char** argv);
int run_tokenizer(int argc, char** argv);
int run_prepare(int argc, char** argv);
int run_score(int argc, char** argv);
int run_eval(int argc, char** argv);
int run_report(int argc, char** argv);
int run_experiment(int argc, char** argv);
int run_synth(int argc, char** argv);

}  // namespace stilts::launch
