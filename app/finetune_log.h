// What `gpt2 finetune` writes beside the checkpoint for people (docs/cli.md "gpt2 finetune"):
//
//   OUTDIR/log.tsv    header `step\ttrain_loss\tval_loss\tlr\ttokens_per_s`, then one row per
//                     optimizer step: step (1-based: steps done), the step's training loss,
//                     the validation loss when it was measured after that step (else the
//                     field is empty), the learning rate used, positions per second.
//                     Appended and flushed row by row (`tail -f` works); a resumed run keeps
//                     the rows up to its checkpoint and goes on from there.
//                     The pair methods add columns after these (finetune --method dpo:
//                     rewards_chosen rewards_rejected rewards_margin rewards_accuracy and the
//                     same with val_; reward: accuracy val_accuracy), empty when not measured.
//   OUTDIR/loss.svg   the curves: training loss per step (a line) and validation loss (points
//                     joined by a line), x = step, y = loss; with an accuracy column, the
//                     training and validation accuracy too (dashed, right axis 0-1);
//                     standalone SVG 1.1.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace gpt2::app {

struct LogRow {
  int64_t step = 0;
  double train_loss = 0;
  double val_loss = std::nan("");  ///< NaN: not measured at this step
  double lr = 0;
  double tokens_per_s = 0;
  std::vector<double> extra;  ///< the extra columns' values (NaN: not measured)
};

class TrainingLog {
 public:
  /// Opens OUTDIR/log.tsv: a fresh file with the header, or (keep_up_to >= 0, a resume) the
  /// existing rows with step <= keep_up_to rewritten and then appended to.
  TrainingLog(const std::string& outdir, int64_t keep_up_to,
              std::vector<std::string> extra_columns = {});
  ~TrainingLog();
  TrainingLog(const TrainingLog&) = delete;
  TrainingLog& operator=(const TrainingLog&) = delete;

  void append(const LogRow& row);  ///< writes and flushes one row
  const std::vector<LogRow>& rows() const { return rows_; }
  /// Writes OUTDIR/loss.svg from the rows so far.
  void write_plot(const std::string& title) const;

 private:
  std::string dir_, path_;
  std::vector<std::string> extra_;
  std::FILE* f_ = nullptr;
  std::vector<LogRow> rows_;
};

/// The SVG figure of the rows (exposed for tests).
/// acc / val_acc: the indexes in LogRow::extra of the training and validation accuracy to
/// draw too (-1: none).
std::string svg_loss_curve(const std::vector<LogRow>& rows, const std::string& title, int acc = -1,
                           int val_acc = -1);

}  // namespace gpt2::app
