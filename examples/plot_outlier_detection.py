"""
Outlier detection with an autoencoder
=====================================

:class:`skae.AutoencoderOutlierDetector` is an outlier detector with the
interface of scikit-learn's (:class:`~sklearn.ensemble.IsolationForest`,
:class:`~sklearn.neighbors.LocalOutlierFactor`): ``fit`` on mostly normal
rows, ``predict`` gives +1 for inliers and -1 for outliers,
``decision_function`` is negative for outliers, and ``contamination`` sets
the share of new rows like the training rows it flags (its threshold comes
from rows held out of each fit). Its score is how badly the autoencoder
reconstructs a row.

Here the normal rows are scikit-learn's 8 x 8 digits other than 7, and 2 %
of the training rows are 7s that slipped in: ``contamination=0.02``. The
detector flags rows of the test set; its ROC AUC at ranking the 7s above the
other digits is compared with IsolationForest's and with PCA's
reconstruction error. :class:`skae.plotting.ReconstructionErrorDisplay` then
shows why the oddest test image was flagged, and which features make a
malignant tumour odd among benign ones in the breast-cancer table.

**How much data.** All of scikit-learn's digits (1 797 images, no download):
1 040 normal training images and 21 training 7s; the default estimator
is fitted six times (five folds, then all rows), about a minute on one CPU
core.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderOutlierDetector
from skae.plotting import ReconstructionErrorDisplay

digits = load_digits()
X, y = digits.data / 16.0, digits.target
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.35, random_state=0)
# Training rows: the other digits, and 2 % of 7s.
normal = X_train[y_train != 7]
sevens = X_train[y_train == 7][: round(0.02 * len(normal))]
X_fit = np.vstack([normal, sevens])
is_seven = y_test == 7

detector = AutoencoderOutlierDetector(contamination=0.02, random_state=0).fit(X_fit)
flagged = detector.predict(X_test) == -1
print(
    f"Data: fitted on {len(normal)} digits other than 7 and {len(sevens)} 7s; "
    f"{detector.estimator_.n_components} codes, {detector.estimator_.n_iter_} epochs, "
    f"pca_start_={detector.estimator_.pca_start_!r}"
)
# offset_ comes from rows each fold's model did not fit (held_out_scores_),
# so contamination=0.02 flags about 2 % of *new* rows like the training rows:
# here, the test digits other than 7.
held_out = detector.held_out_scores_[~np.isnan(detector.held_out_scores_)]
print(
    f"flagged {np.mean(held_out < detector.offset_):.1%} of the held-out training rows, "
    f"{flagged[is_seven].mean():.1%} of the test 7s and "
    f"{flagged[~is_seven].mean():.1%} of the other test digits"
)

# %%
# Against IsolationForest and PCA's reconstruction error, by ROC AUC
# (higher: the 7s rank further above the other digits).
baselines = {
    "autoencoder": detector,
    "PCA(16) reconstruction error": AutoencoderOutlierDetector(PCA(16)).fit(X_fit),
    "IsolationForest": IsolationForest(random_state=0).fit(X_fit),
}
for name, model in baselines.items():
    auc = roc_auc_score(is_seven, -model.decision_function(X_test))
    print(f"{name:>28}: ROC AUC {auc:.3f}")

# %%
# Why the oddest test image is odd: the image, its reconstruction, and the
# pixels where they differ most.
disp = ReconstructionErrorDisplay.from_estimator(detector, X_test, image_shape=(8, 8))
odd = int(np.argmax(detector.reconstruction_error(X_test)))
disp.ax_.set_title(f"oddest test image: a {y_test[odd]}")
plt.show()

# %%
# A table: breast-cancer measurements, benign tumours as the normal rows
# (three quarters of them to fit, standardised on those). The bars show the
# features that make the oddest malignant row odd: its value, then its
# reconstruction, in standard deviations.
cancer = load_breast_cancer(as_frame=True)
benign, malignant = cancer.data[cancer.target == 1], cancer.data[cancer.target == 0]
benign_fit, benign_test = train_test_split(benign, test_size=0.25, random_state=0)
scaler = StandardScaler().set_output(transform="pandas").fit(benign_fit)
table_detector = AutoencoderOutlierDetector(random_state=0).fit(scaler.transform(benign_fit))
scores = table_detector.score_samples(scaler.transform(pd.concat([benign_test, malignant])))
labels = np.r_[np.zeros(len(benign_test)), np.ones(len(malignant))]
auc = roc_auc_score(labels, -scores)
print(
    f"breast cancer, fitted on {len(benign_fit)} benign rows: ROC AUC of the "
    f"{len(malignant)} malignant against {len(benign_test)} benign test rows {auc:.3f}"
)
disp = ReconstructionErrorDisplay.from_estimator(
    table_detector, scaler.transform(malignant), max_features=8
)
disp.figure_.tight_layout()
plt.show()
