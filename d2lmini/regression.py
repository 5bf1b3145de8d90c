"""Linear regression: synthetic data, a from-scratch model with its SGD, and the
concise ``torch.nn`` version (sections 3.3–3.5)."""
import torch
from torch import nn

import d2lmini as d2l


class SyntheticRegressionData(d2l.DataModule):
    """Examples drawn from y = Xw + b + Gaussian noise."""
    def __init__(self, w, b, noise=0.01, num_train=1000, num_val=1000,
                 batch_size=32):
        super().__init__()
        self.save_hyperparameters()
        n = num_train + num_val
        self.X = torch.randn(n, len(w))
        noise = torch.randn(n, 1) * noise
        self.y = self.X @ w.reshape(-1, 1) + b + noise

    def get_dataloader(self, train):
        i = slice(0, self.num_train) if train else slice(self.num_train, None)
        return self.get_tensorloader((self.X, self.y), train, i)


class SGD(d2l.HyperParameters):
    """Minibatch stochastic gradient descent."""
    def __init__(self, params, lr):
        self.save_hyperparameters(ignore=['params'])
        self.params = list(params)

    def step(self):
        with torch.no_grad():
            for param in self.params:
                param -= self.lr * param.grad

    def zero_grad(self):
        for param in self.params:
            if param.grad is not None:
                param.grad.zero_()


class LinearRegressionScratch(d2l.Module):
    """Linear regression with hand-made parameters, loss and optimizer."""
    def __init__(self, num_inputs, lr, sigma=0.01):
        super().__init__()
        self.save_hyperparameters()
        self.w = torch.normal(0, sigma, (num_inputs, 1), requires_grad=True)
        self.b = torch.zeros(1, requires_grad=True)

    def forward(self, X):
        return X @ self.w + self.b

    def loss(self, y_hat, y):
        return ((y_hat - y) ** 2 / 2).mean()

    def configure_optimizers(self):
        return SGD([self.w, self.b], self.lr)


class LinearRegression(d2l.Module):
    """Linear regression built from torch.nn parts."""
    def __init__(self, lr):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.LazyLinear(1)
        # The lazy layer creates its weight at the first forward pass and then
        # calls reset_parameters(); ours draws w ~ N(0, 0.01^2) and sets b = 0.
        self.net.reset_parameters = self.init_weights

    def init_weights(self):
        nn.init.normal_(self.net.weight, 0, 0.01)
        nn.init.zeros_(self.net.bias)

    def forward(self, X):
        return self.net(X)

    def loss(self, y_hat, y):
        return nn.functional.mse_loss(y_hat, y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), self.lr)

    def get_w_b(self):
        return self.net.weight.data, self.net.bias.data
